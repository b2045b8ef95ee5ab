#include <stdio.h>
#include <histedit.h>

// el_set, el_get and history are C variadic functions, which Swift cannot call:
// each use the REPL needs is wrapped here with a fixed signature.
static inline FILE *cel_stdin(void) { return stdin; }
static inline FILE *cel_stdout(void) { return stdout; }
static inline FILE *cel_stderr(void) { return stderr; }
static inline int cel_set_editor(EditLine *el, const char *mode) { return el_set(el, EL_EDITOR, mode); }
static inline int cel_set_prompt(EditLine *el, char *(*prompt)(EditLine *)) { return el_set(el, EL_PROMPT, prompt); }
static inline int cel_set_history(EditLine *el, History *h) { return el_set(el, EL_HIST, history, h); }
static inline int cel_set_signal(EditLine *el, int on) { return el_set(el, EL_SIGNAL, on); }
static inline int cel_add_function(EditLine *el, const char *name, const char *help,
                                   unsigned char (*fn)(EditLine *, int)) {
    return el_set(el, EL_ADDFN, name, help, fn);
}
static inline int cel_bind(EditLine *el, const char *key, const char *fn) { return el_set(el, EL_BIND, key, fn, NULL); }
static inline int cel_source(EditLine *el, const char *file) { return el_source(el, file); }
static inline int cel_history_set_size(History *h, HistEvent *ev, int n) { return history(h, ev, H_SETSIZE, n); }
static inline int cel_history_set_unique(History *h, HistEvent *ev, int on) { return history(h, ev, H_SETUNIQUE, on); }
static inline int cel_history_enter(History *h, HistEvent *ev, const char *line) { return history(h, ev, H_ENTER, line); }
static inline int cel_history_load(History *h, HistEvent *ev, const char *file) { return history(h, ev, H_LOAD, file); }
static inline int cel_history_save(History *h, HistEvent *ev, const char *file) { return history(h, ev, H_SAVE, file); }
