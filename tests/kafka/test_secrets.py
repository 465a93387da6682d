"""test_secrets.py: a Kafka source whose options hold secrets (issue 13,
item 16).

Pins: the secret given in clear ('kafka.sasl.password') is not in
sluice_catalog nor anywhere in the database file, but in DB.secrets, mode
0600, beside the database (itself 0600); a '${env:NAME}' reference is kept
as written; after a restart (--serve) the source still connects and reads
on (the catalog's references resolved); restarted without the variable, the
query fails with a message naming it instead of connecting with a wrong
value. (librdkafka accepts SASL and SSL properties unused under
security.protocol = plaintext, which the mock cluster speaks.)

usage: test_secrets.py MOCK_BROKER SLUICE
"""
import os
import sys
sys.path.insert(0, os.path.dirname(__file__))
from kafkatest import (Tap, Broker, Sluice, produce, workdir,
                       skip_without_kcat, MOCK_PROPS)

skip_without_kcat()
mock_exe, sluice_exe = sys.argv[1], sys.argv[2]
t = Tap()
wd = workdir()
broker = Broker(mock_exe, wd, {"pay": 1})
SECRET = "s3cr3t-Pa55"


def count(s):
    rows = s.query("SELECT n FROM per_card_total")
    return rows[0][0] if rows else 0


try:
    os.environ["SLUICE_TEST_KEY_PASSWORD"] = "from-the-environment"
    produce(broker, "pay", ['{"card":"c%d"}' % (i % 3) for i in range(30)])
    s = Sluice(sluice_exe, wd)
    s.start("CREATE SOURCE pay (card TEXT) WITH (connector = 'kafka', "
            "brokers = '%s', topic = 'pay', format = 'json', %s, "
            "'kafka.security.protocol' = 'plaintext', "
            "'kafka.sasl.username' = 'sluice', "
            "'kafka.sasl.password' = '%s', "
            "'kafka.ssl.key.password' = '${env:SLUICE_TEST_KEY_PASSWORD}');"
            "CREATE MATERIALIZED VIEW per_card_total AS "
            "SELECT COUNT(*) AS n FROM pay;" % (broker.bootstrap, MOCK_PROPS,
                                               SECRET))
    t.ok(s.wait_for(lambda: count(s) == 30, 30), "source_with_secrets_reads",
         count(s))
    rc, err = s.stop()
    t.is_(rc, 0, "first_run_stops_cleanly")

    row = s.query("SELECT sql FROM sluice_catalog WHERE name = 'pay'")
    sql = row[0][0] if row else ""
    t.ok(SECRET not in sql and
         "'kafka.sasl.password' = '${secret:pay.kafka.sasl.password}'" in sql
         and "'${env:SLUICE_TEST_KEY_PASSWORD}'" in sql,
         "catalog_row_holds_references_not_the_secret", sql)
    with open(s.db, "rb") as f:
        t.ok(SECRET.encode() not in f.read(), "database_file_has_no_secret")
    secrets = s.db + ".secrets"
    mode = os.stat(secrets).st_mode & 0o777 if os.path.exists(secrets) else None
    t.is_(mode, 0o600, "secrets_file_is_0600")
    t.is_(os.stat(s.db).st_mode & 0o777, 0o600, "database_file_is_0600")
    with open(secrets) if mode else open(os.devnull) as f:
        t.ok("pay.kafka.sasl.password\t%s\n" % SECRET in f.read(),
             "secret_is_in_the_secrets_file")

    # a restart resumes from the catalog: the source still connects
    produce(broker, "pay", ['{"card":"c%d"}' % (i % 3) for i in range(12)])
    s.serve()
    t.ok(s.wait_for(lambda: count(s) == 42, 30),
         "source_with_secrets_connects_after_restart", count(s))
    rc, err = s.stop()
    t.is_(rc, 0, "restart_stops_cleanly")

    # restarted without the variable: failed, naming it
    del os.environ["SLUICE_TEST_KEY_PASSWORD"]
    rc, out, err = s.run("SELECT 1;")
    st = s.query("SELECT status FROM sluice_catalog WHERE name = "
                 "'per_card_total'")
    st = st[0][0] if st else ""
    t.ok("environment variable SLUICE_TEST_KEY_PASSWORD is not set" in st and
         "kafka.ssl.key.password" in st,
         "unset_variable_fails_the_query_naming_it", st + "\n" + err)
finally:
    broker.stop()
t.done(wd)
