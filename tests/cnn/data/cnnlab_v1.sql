-- A class database as CNN Lab made it before Alembic (settings.schema_version 1), dumped by sqlite3's iterdump.
BEGIN TRANSACTION;
CREATE TABLE challenge (
        id INTEGER PRIMARY KEY, dataset TEXT NOT NULL, max_epochs INTEGER NOT NULL, max_params INTEGER NOT NULL,
        title TEXT NOT NULL DEFAULT '');
INSERT INTO "challenge" VALUES(1,'mnist',5,0,'Best digits');
CREATE TABLE datasets (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '', owner_name TEXT NOT NULL DEFAULT '',
        classes TEXT NOT NULL DEFAULT '[]', updated DOUBLE PRECISION NOT NULL);
CREATE TABLE identities (
        id TEXT PRIMARY KEY, token_hash TEXT UNIQUE NOT NULL, name TEXT NOT NULL DEFAULT '',
        created DOUBLE PRECISION NOT NULL, seen DOUBLE PRECISION NOT NULL);
INSERT INTO "identities" VALUES('id1','h1','Ana',1.0,2.0);
CREATE TABLE models (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '', owner_name TEXT NOT NULL DEFAULT '',
        dataset TEXT NOT NULL DEFAULT '', meta TEXT NOT NULL DEFAULT '{}', saved DOUBLE PRECISION NOT NULL,
        deleted DOUBLE PRECISION, deleted_by TEXT NOT NULL DEFAULT '');
INSERT INTO "models" VALUES('ana-model','id1','Ana','mnist','{}',3.0,NULL,'');
CREATE TABLE runs (
        id TEXT PRIMARY KEY, label TEXT UNIQUE NOT NULL, owner TEXT NOT NULL DEFAULT '',
        owner_name TEXT NOT NULL DEFAULT '', group_key TEXT NOT NULL DEFAULT '', dataset TEXT NOT NULL DEFAULT '',
        arch TEXT NOT NULL DEFAULT '', epochs INTEGER NOT NULL DEFAULT 0, config TEXT NOT NULL DEFAULT '{}',
        extra TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
        stop_reason TEXT, stop_request TEXT, worker TEXT NOT NULL DEFAULT '', server TEXT NOT NULL DEFAULT '',
        submitted DOUBLE PRECISION NOT NULL, started DOUBLE PRECISION, ended DOUBLE PRECISION,
        updated DOUBLE PRECISION NOT NULL, progress TEXT NOT NULL DEFAULT '{}', history TEXT NOT NULL DEFAULT '{}',
        points TEXT NOT NULL DEFAULT '[]', result TEXT NOT NULL DEFAULT '{}', saved_as TEXT NOT NULL DEFAULT '');
INSERT INTO "runs" VALUES('r1','mnist-fast','id1','Ana','','','',0,'{}','{}','done','',NULL,NULL,'','',1.0,NULL,NULL,2.0,'{}','{}','[]','{"test_accuracy": 0.99}','');
CREATE TABLE servers (
        id TEXT PRIMARY KEY, host TEXT NOT NULL DEFAULT '', engine TEXT NOT NULL DEFAULT '',
        started DOUBLE PRECISION NOT NULL, beat DOUBLE PRECISION NOT NULL);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "settings" VALUES('schema_version','1');
CREATE TABLE teacher_grants (
        identity TEXT PRIMARY KEY, expires DOUBLE PRECISION NOT NULL, signature TEXT NOT NULL);
INSERT INTO "teacher_grants" VALUES('id1',9999999999.0,'sig');
CREATE INDEX runs_owner ON runs (owner, submitted);
CREATE INDEX runs_state ON runs (state, server);
COMMIT;
