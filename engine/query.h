/*
** query.h: continuous queries (materialised views, streaming tables, sinks)
** and push queries: starting, running, committing, resuming, explaining.
*/
#ifndef SL_QUERY_H
#define SL_QUERY_H

#include "engine/session_int.h"
#include "engine/plan.h"

/* Starts the continuous query of catalog object o (a materialised view,
** streaming table or sink whose output table exists). With replay, its
** outputs, late events, dead letters and positions are cleared first and
** it starts from the beginning of its source. The query is added to the
** session's running queries. Returns it, or NULL with err set. */
sl_query *sl_query_start(sl_session *s, sl_catalog_obj *o, int replay,
                         sl_error *err);

/* Runs q until its bounded input is finished (progress on a terminal), then
** removes it from the running queries and frees it. For an unbounded query,
** returns at once (it keeps running in the background). Returns 0, or -1
** with err set (the query is then marked failed and removed). */
int sl_query_finish(sl_session *s, sl_query *q, sl_error *err);

/* The running query writing to name, or NULL. */
sl_query *sl_query_find(sl_session *s, const char *name);
/* 1 when q's source is bounded (it will finish). */
int sl_query_bounded(const sl_query *q);

/* Stops q (committing what it did) and removes it from the running list;
** q is freed. */
void sl_query_remove(sl_session *s, sl_query *q);

void sl_query_free(sl_query *q);

/* Deletes everything sluice keeps about query name besides its table:
** late events, dead letters, positions, metrics, operator state. */
/* ALTER ... name RESUME: starts failed query name again from its last
** commit (its table, state and positions as they were committed), and for
** a bounded one runs it to the end. Returns 0, or -1 with err set (an
** unknown name, another kind, a query that is not failed, or why it fails
** again, which its status then says). */
int sl_query_resume_failed(sl_session *s, const sl_stmt *st, sl_error *err);

int sl_query_forget(sl_session *s, const char *name, sl_error *err);

/* A commit point now, if a transaction is open (the end of a statement). */
int sl_query_commit_all(sl_session *s, sl_error *err);

/* At session open: starts every persisted query that is not done. */
int sl_query_resume_all(sl_session *s, sl_error *err);

/* Runs the background queries for up to timeout_ms; returns how many are
** still running, or -1 with err set. */
int sl_query_run_background(sl_session *s, int timeout_ms, sl_error *err);

/* Runs a push query (SELECT over a source) to the session's output until
** LIMIT, end of input or an interrupt. text is the statement's text. */
int sl_query_push(sl_session *s, const sl_stmt *st, const char *text,
                  sl_error *err);

/* EXPLAIN: prints the plan of inner (a SELECT or a CREATE of a continuous
** query). */
int sl_query_explain(sl_session *s, const sl_stmt *inner, const char *text,
                     sl_error *err);

/* 1 when the SELECT reads a source (defined in session.c). */
int sl_select_reads_source(sl_session *s, const sl_select *sel);

#endif
