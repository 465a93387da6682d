/*
** secrets.h: option values that must never be written in clear.
**
** A secret is the value of an option whose name says it is one
** (sl_option_is_secret: kafka.sasl.password, kafka.ssl.key.pem, an api_key,
** a *.token...). sluice never stores a secret in sluice_catalog: the
** catalog keeps the statement with the value replaced by a reference, and
** the reference is resolved when the catalog is loaded:
**
**   '${env:NAME}'          the environment variable NAME, written so by the
**                          user and kept as written;
**   '${secret:obj.option}' a value sluice moved out of the statement into
**                          DB.secrets, a file beside the database that only
**                          its owner may read (mode 0600).
**
** This module decides which options are secrets, reads and writes
** DB.secrets (an sl_secrets owns its names and values), resolves the
** references of a parsed statement, and redacts secrets from free text
** (the REPL's history). It also creates files that must be private to
** their owner (the database, the history) with mode 0600.
*/
#ifndef SL_SECRETS_H
#define SL_SECRETS_H

#include <stddef.h>
#include "engine/error.h"
#include "grammar/ast.h"

/* 1 when an option named key holds a secret: its last word (words are
** separated by '.', '_' or '-') is password, passwd, secret, token or
** credentials, or it ends in key.pem or in a named key (api_key,
** private_key, secret_key, access_key, ssl.key ...), or it is
** sasl.oauthbearer.config. A bare `key` (a sink's key column) is not. */
int sl_option_is_secret(const char *key);

/* 1 when value is a whole reference '${env:NAME}' or '${secret:NAME}';
** *kind gets "env" or "secret" and name/name_len the NAME inside. */
int sl_secret_ref(const char *value, const char **kind, const char **name,
                  int *name_len);

typedef struct sl_secrets {
    char *path;                /* DB.secrets; NULL: kept in memory only */
    char *problem;             /* why the file could not be read, or NULL */
    char **names, **values;
    int n, cap;
} sl_secrets;

/* The secrets of the database at db_path (DB.secrets, read if it exists;
** db_path NULL, "" or ":memory:" keeps them in memory). Never NULL: a file
** that exists but cannot be read gives an empty set whose problem says
** why, and which sl_secrets_save refuses to write over. */
sl_secrets *sl_secrets_open(const char *db_path);
void sl_secrets_free(sl_secrets *s);

/* The value of a named secret, or NULL. Borrowed: valid until the next
** change of s. */
const char *sl_secrets_get(const sl_secrets *s, const char *name);

/* Sets (adds or replaces) a named secret in memory; sl_secrets_save
** writes it. */
void sl_secrets_set(sl_secrets *s, const char *name, const char *value);

/* Forgets every secret for which keep(ctx, name) returns 0. */
void sl_secrets_retain(sl_secrets *s, int (*keep)(void *ctx, const char *name),
                       void *ctx);

/* Writes every secret to the file, replacing it atomically (a temporary
** file created 0600, then renamed). Returns 0, or -1 with err set (also
** when the file could not be read at open: it is never written over). */
int sl_secrets_save(const sl_secrets *s, sl_error *err);

/* Replaces the value of every secret option of st that is a reference by
** the value it refers to (from the environment or from s). Returns 0, or
** -1 with err set (offset -1) naming the first reference that cannot be
** resolved and its option; the references before it are resolved, the
** rest are left as written. */
int sl_secrets_resolve(const sl_secrets *s, sl_stmt *st, sl_error *err);

/* For an object about to open a connector: -1 with err set if a secret
** option of st still holds a reference (sl_secrets_resolve could not
** resolve it when the catalog was loaded), 0 otherwise. */
int sl_secrets_check_resolved(const sl_stmt *st, sl_error *err);

/* Moves the literal secrets of st (parsed from sql, offsets relative to
** it) of the object named obj into s, as obj.option, and returns a
** malloc'd copy of sql with each such value replaced by
** '${secret:obj.option}'; references stay as written. Returns NULL when
** st holds no literal secret (sql is then stored as it is). */
char *sl_secrets_extract(sl_secrets *s, const char *obj, const char *sql,
                         const sl_stmt *st);

/* A copy of text (len bytes) in which the value of every `name = value`
** whose name is a secret option is replaced by '***': for text that is
** kept but may hold a secret as typed (REPL history). References are kept.
** Returns a malloc'd string; NULL when there was nothing to redact. */
char *sl_secrets_redact_text(const char *text, int len);

/* Makes sure the file at path is private to its owner: creates it empty
** with mode 0600 when it does not exist; an existing file is left as it
** is. Returns 0, or -1 with errno set. */
int sl_private_file_create(const char *path);

/* sl_private_file_create for a database path, before SQLite opens it:
** SQLite gives its -wal and -shm files the mode of the database file.
** Nothing to do for ":memory:", "" (a temporary database) or a file: URI. */
int sl_private_db_create(const char *path);

#endif
