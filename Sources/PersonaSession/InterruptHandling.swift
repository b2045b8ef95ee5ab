import PersonaCore
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C (SIGINT) raises `CancellationToken.interrupt`: the running command stops at its
/// next check and the REPL goes on; at an idle prompt it clears the line. A second Ctrl-C
/// before the first is handled (a command that never checks) ends the process.
public enum InterruptHandling {
    public static func install() {
        // Created before the handler can run: the handler must not initialise anything.
        let token = CancellationToken.interrupt
        _ = token.isCancelled
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            let token = CancellationToken.interrupt
            if token.isCancelled {
                signal(SIGINT, SIG_DFL)
                raise(SIGINT)
            } else {
                token.cancel()
            }
        }
        sigemptyset(&action.sa_mask)
        // No SA_RESTART: a read at the prompt returns with EINTR so the line can be cleared.
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
    }
}
