/*
** test_secrets.c: which options are secrets, how they are kept out of
** sluice_catalog and the REPL history, and how they come back.
**
** Pins issue 13 item 16: the catalog row of a source with a secret holds a
** reference, not the secret; the secret is in DB.secrets (mode 0600) and
** is resolved again when the catalog is loaded; '${env:NAME}' is kept as
** written and resolved from the environment (unset: an error naming it).
*/
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "grammar/parser.h"
#include "storage/catalog.h"
#include "storage/db.h"
#include "storage/secrets.h"

static void secret_names(void)
{
    static const char *const secret[] = {
        "kafka.sasl.password", "kafka.ssl.key.password", "kafka.ssl.key.pem",
        "kafka.sasl.oauthbearer.client.secret", "kafka.ssl.keystore.password",
        "kafka.sasl.oauthbearer.config", "password", "PASSWORD", "api_key",
        "access-key", "token", "github.token", "private_key", "credentials",
        NULL};
    static const char *const plain[] = {
        "key", "kafka.sasl.username", "kafka.ssl.key.location",
        "kafka.ssl.certificate.pem", "kafka.ssl.ca.pem",
        "kafka.sasl.oauthbearer.token.endpoint.url", "kafka.sasl.mechanism",
        "kafka.ssl.keystore.location", "kafka.sasl.kerberos.keytab", "brokers",
        "topic", "group_id", "path", "message.key", "key_column", "keys",
        "format", NULL};
    for (int i = 0; secret[i]; i++)
        ok(sl_option_is_secret(secret[i]), "option_is_secret: %s", secret[i]);
    for (int i = 0; plain[i]; i++)
        ok(!sl_option_is_secret(plain[i]), "option_is_not_secret: %s", plain[i]);
}

static void references(void)
{
    const char *kind, *name;
    int n;
    ok(sl_secret_ref("${env:KAFKA_PASSWORD}", &kind, &name, &n) &&
       strcmp(kind, "env") == 0 && n == 14 &&
       strncmp(name, "KAFKA_PASSWORD", 14) == 0, "env_reference_parsed");
    ok(sl_secret_ref("${secret:orders.kafka.sasl.password}", &kind, &name, &n) &&
       strcmp(kind, "secret") == 0 &&
       strncmp(name, "orders.kafka.sasl.password", (size_t)n) == 0,
       "secret_reference_parsed");
    ok(!sl_secret_ref("${env:}", &kind, &name, &n) &&
       !sl_secret_ref("x${env:A}", &kind, &name, &n) &&
       !sl_secret_ref("${env:A}x", &kind, &name, &n) &&
       !sl_secret_ref("${file:A}", &kind, &name, &n) &&
       !sl_secret_ref("hunter2", &kind, &name, &n),
       "only_whole_env_or_secret_references_count");
}

static void redact(const char *in, const char *want, const char *name)
{
    char *got = sl_secrets_redact_text(in, (int)strlen(in));
    is_str(got ? got : in, want, name);
    free(got);
}

static void history_redaction(void)
{
    redact("CREATE SOURCE s (a INT) WITH ('kafka.sasl.password' = 'p''w', "
           "topic = 't');",
           "CREATE SOURCE s (a INT) WITH ('kafka.sasl.password' = '***', "
           "topic = 't');", "history_redacts_quoted_secret_option");
    redact("CREATE SINK k AS SELECT * FROM s WITH (connector = 'kafka', "
           "key = 'card_id', api_key=/* c */ 12345)",
           "CREATE SINK k AS SELECT * FROM s WITH (connector = 'kafka', "
           "key = 'card_id', api_key=/* c */ '***')",
           "history_keeps_key_column_and_redacts_api_key");
    redact("WITH ('kafka.sasl.password' = '${env:PW}')",
           "WITH ('kafka.sasl.password' = '${env:PW}')",
           "history_keeps_env_reference");
    redact("WITH (password = 'unterminated",
           "WITH (password = '***'", "history_redacts_unterminated_secret");
    redact("SELECT 1;", "SELECT 1;", "history_without_secret_unchanged");
}

/* The option value of key in the catalog object named name. */
static const char *value_of(sl_catalog *c, const char *name, const char *key)
{
    sl_catalog_obj *o = sl_catalog_find(c, name);
    const sl_option *opt = o ? sl_stmt_option(o->stmt, key) : NULL;
    return opt ? opt->value : NULL;
}

static sl_catalog_obj *add(sl_catalog *c, const char *name, const char *sql,
                           sl_error *err)
{
    sl_stmt *st = NULL;
    int pos = 0;
    sl_error_clear(err);
    if (sl_parse_next(sql, (int)strlen(sql), &pos, &st, err) != 1)
        return NULL;
    return sl_catalog_add(c, name, SL_OBJ_SOURCE, sql, st, err);
}

static char *stored_sql(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    char *out = NULL;
    sqlite3_prepare_v2(db, "SELECT sql FROM sluice_catalog WHERE name = ?1",
                       -1, &st, NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static void catalog_round_trip(void)
{
    char dir[] = "/tmp/sluice-secrets-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return;
    char path[256], secrets[256];
    snprintf(path, sizeof path, "%s/t.db", dir);
    snprintf(secrets, sizeof secrets, "%s/t.db.secrets", dir);
    sl_error err;
    sl_error_clear(&err);
    int cannot_write = 0;
    sqlite3 *db = sl_db_open(path, &cannot_write, &err);
    sl_catalog *c = sl_catalog_load(db, &err);
    setenv("SL_TEST_KEYPASS", "from-env", 1);
    const char *sql =
        "CREATE SOURCE orders (a BIGINT) WITH (connector = 'kafka', "
        "brokers = 'b:1', topic = 't', 'kafka.sasl.password' = 'pa''ss',\n"
        "'kafka.ssl.key.pem' = '-----BEGIN\nx\\y\t-----END', "
        "'kafka.ssl.key.password' = '${env:SL_TEST_KEYPASS}')";
    sl_catalog_obj *o = add(c, "orders", sql, &err);
    ok(o != NULL, "source_with_secrets_added%s%s", err.set ? ": " : "",
       err.set ? err.msg : "");
    char *row = stored_sql(db, "orders");
    ok(row && strstr(row, "pa'ss") == NULL && strstr(row, "pa''ss") == NULL &&
       strstr(row, "BEGIN") == NULL, "catalog_row_has_no_secret");
    ok(row && strstr(row, "'kafka.sasl.password' = "
                     "'${secret:orders.kafka.sasl.password}'") &&
       strstr(row, "'${secret:orders.kafka.ssl.key.pem}'") &&
       strstr(row, "'${env:SL_TEST_KEYPASS}'") &&
       strstr(row, "topic = 't'"),
       "catalog_row_holds_references_in_place");
    ok(o && strcmp(o->sql, row ? row : "") == 0, "object_text_is_the_row");
    free(row);
    is_str(value_of(c, "orders", "kafka.sasl.password"), "pa'ss",
           "secret_resolved_in_the_parsed_statement");
    is_str(value_of(c, "orders", "kafka.ssl.key.password"), "from-env",
           "env_reference_resolved_in_the_parsed_statement");
    struct stat sb;
    ok(stat(secrets, &sb) == 0 && (sb.st_mode & 0777) == 0600,
       "secrets_file_is_0600");

    /* a restart: the catalog is loaded from the stored text */
    sl_catalog_free(c);
    c = sl_catalog_load(db, &err);
    is_str(value_of(c, "orders", "kafka.sasl.password"), "pa'ss",
           "secret_resolved_after_reload");
    is_str(value_of(c, "orders", "kafka.ssl.key.pem"), "-----BEGIN\nx\\y\t-----END",
           "multi_line_secret_resolved_after_reload");
    is_str(value_of(c, "orders", "kafka.ssl.key.password"), "from-env",
           "env_resolved_after_reload");
    sl_error_clear(&err);
    ok(sl_secrets_check_resolved(sl_catalog_find(c, "orders")->stmt, &err) == 0,
       "resolved_statement_passes_the_check");

    /* an unset variable: the catalog loads, the connector's check names it */
    unsetenv("SL_TEST_KEYPASS");
    sl_catalog_free(c);
    c = sl_catalog_load(db, &err);
    ok(c != NULL, "catalog_loads_with_an_unset_variable");
    sl_error_clear(&err);
    ok(sl_secrets_check_resolved(sl_catalog_find(c, "orders")->stmt, &err) != 0 &&
       strstr(err.msg, "environment variable SL_TEST_KEYPASS is not set") &&
       strstr(err.msg, "kafka.ssl.key.password"),
       "unset_variable_is_an_error_naming_it_at_open");
    ok(add(c, "other", "CREATE SOURCE other (a BIGINT) WITH (connector = "
           "'kafka', 'kafka.sasl.password' = '${env:SL_TEST_KEYPASS}')",
           &err) == NULL &&
       strstr(err.msg, "environment variable SL_TEST_KEYPASS is not set"),
       "unset_variable_is_an_error_at_create");

    /* a dropped object's secrets leave the file with the next write */
    sl_catalog_remove(c, "orders", &err);
    sl_error_clear(&err);
    ok(add(c, "third", "CREATE SOURCE third (a BIGINT) WITH (connector = "
           "'kafka', 'kafka.sasl.password' = 'three')", &err) != NULL,
       "second_source_added");
    sl_secrets *s = sl_secrets_open(path);
    ok(s->n == 1 && sl_secrets_get(s, "third.kafka.sasl.password") &&
       strcmp(sl_secrets_get(s, "third.kafka.sasl.password"), "three") == 0,
       "dropped_objects_secrets_removed_on_next_write");
    sl_secrets_free(s);

    sl_catalog_free(c);
    sl_db_close(db);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        ok(0, "cleanup");
}

int main(void)
{
    secret_names();
    references();
    history_redaction();
    catalog_round_trip();
    return tap_done();
}
