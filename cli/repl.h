/*
** repl.h: the interactive shell of sluice (libedit line editing).
**
** The REPL reads statements from the terminal (multi-line until a ';' ends
** the last statement), runs them on a session and prints results through
** the session's sl_output. It owns the line editor, the history file and
** tab completion; it does not own the session or the output.
*/
#ifndef SL_REPL_H
#define SL_REPL_H

#include "engine/session.h"
#include "cli/output.h"

/* Runs the interactive loop on s until \q, .quit, .exit or Ctrl-D. out is the
** formatter the session prints through (\mode changes it). History is read
** from and appended to $SLUICE_HISTORY, or ~/.sluice_history. While a
** statement runs, SIGINT interrupts it (sl_session_interrupt); at the prompt
** Ctrl-C clears the input. Returns 0. */
int sl_repl_run(sl_session *s, sl_output *out);

/* The text printed by \help (statements with their syntax, meta-commands). */
extern const char sl_repl_help[];

#endif
