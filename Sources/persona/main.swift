import Foundation
import PersonaSession

exit(Launcher.main(arguments: CommandLine.arguments))
