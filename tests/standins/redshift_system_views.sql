-- Redshift system views and functions, emulated on PostgreSQL for the Redshift stand-in
-- (tests/standins/redshift.py; recipe in ../shared/docs/warehouse-stand-ins.md, Redshift section).
--
-- Loaded once into the template database the stand-in creates its Redshift databases from, so
-- every stand-in database has them. They live in schema redshift_sys, which the stand-in puts on
-- each database's search_path: on Redshift these names are pg_catalog views and resolve
-- unqualified, and the collector's SQL never qualifies them either.
--
-- Catalog views (svv_tables, svv_columns, svv_table_info, svv_redshift_databases) are views over
-- PostgreSQL's real catalog, so tables a test creates show up the way they would on Redshift.
-- Spectrum (svv_external_*) and query history (sys_* / stl_*) are plain tables the tests fill:
-- PostgreSQL has neither an external catalog nor Redshift's query logging. Column names and
-- types follow the AWS docs; character(n) columns stay character(n) on purpose, because Redshift
-- returns them blank-padded and the collector must cope with that.

CREATE SCHEMA redshift_sys;

-- Redshift functions people put in ad-hoc SQL (the collector itself binds values instead).
CREATE FUNCTION redshift_sys.getdate() RETURNS timestamp
    LANGUAGE sql STABLE AS $$ SELECT date_trunc('second', now() AT TIME ZONE 'UTC') $$;
-- Only the quoted date-part form: DATEADD(day, 1, ts) with a bare date part cannot be emulated.
CREATE FUNCTION redshift_sys.dateadd(datepart text, amount bigint, ts timestamp) RETURNS timestamp
    LANGUAGE sql IMMUTABLE AS $$ SELECT ts + amount * ('1 ' || datepart)::interval $$;
CREATE FUNCTION redshift_sys.nvl(anyelement, anyelement) RETURNS anyelement
    LANGUAGE sql IMMUTABLE AS $$ SELECT COALESCE($1, $2) $$;
CREATE FUNCTION redshift_sys.len(text) RETURNS integer
    LANGUAGE sql IMMUTABLE AS $$ SELECT length($1) $$;

-- svv_table_info.create_time: PostgreSQL does not record when a table was created, so an event
-- trigger notes it (UTC, without zone, as Redshift reports it).
CREATE TABLE redshift_sys.stand_in_create_times (table_oid oid PRIMARY KEY, create_time timestamp NOT NULL);
CREATE FUNCTION redshift_sys.record_create_time() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    created record;
BEGIN
    FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP
        INSERT INTO redshift_sys.stand_in_create_times
        VALUES (created.objid, date_trunc('second', now() AT TIME ZONE 'UTC'))
        ON CONFLICT DO NOTHING;
    END LOOP;
END $$;
CREATE EVENT TRIGGER redshift_record_create_time ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
    EXECUTE FUNCTION redshift_sys.record_create_time();

-- Databases: the stand-in marks its Redshift databases with a comment, so other databases on the
-- same PostgreSQL server (other suites share it) stay out. Datashare consumer databases and
-- Redshift's internal padb_harvest are emulated so the collector's filters have something to skip.
CREATE TABLE redshift_sys.stand_in_shared_databases (database_name varchar(128) PRIMARY KEY);
CREATE VIEW redshift_sys.svv_redshift_databases AS
SELECT d.datname::varchar(128) AS database_name,
       pg_get_userbyid(d.datdba)::varchar(128) AS database_owner,
       'local'::varchar(8) AS database_type,
       NULL::varchar(128) AS database_options,
       'Snapshot Isolation'::varchar(128) AS database_isolation_level
FROM pg_database AS d
WHERE shobj_description(d.oid, 'pg_database') = 'redshift stand-in'
UNION ALL
SELECT 'padb_harvest', 'rdsdb', 'local', NULL, 'Serializable'
UNION ALL
SELECT database_name, 'rdsdb', 'shared', '{"datashare_name": "stand_in"}', 'Snapshot Isolation'
FROM redshift_sys.stand_in_shared_databases;

-- Spectrum: external schemas, tables and columns (Glue catalog entries on Redshift).
CREATE TABLE redshift_sys.svv_external_schemas (
    esoid oid,
    eskind smallint,
    schemaname varchar(128),
    esowner integer,
    databasename varchar(128),
    esoptions varchar(256)
);
CREATE TABLE redshift_sys.svv_external_tables (
    redshift_database_name varchar(128),
    schemaname varchar(128),
    tablename varchar(128),
    location varchar(128),
    input_format varchar(128),
    output_format varchar(128),
    serialization_lib varchar(128),
    serde_parameters varchar(128),
    compressed integer,
    parameters varchar(128)
);
CREATE TABLE redshift_sys.svv_external_columns (
    redshift_database_name varchar(128),
    schemaname varchar(128),
    tablename varchar(128),
    columnname varchar(128),
    external_type varchar(128),
    columnnum integer,
    part_key integer,
    is_nullable varchar(128)
);

-- svv_tables / svv_columns: local tables and views of the current database (catalog schemas
-- included, as on Redshift) plus the external ones, as Redshift lists them.
CREATE VIEW redshift_sys.svv_tables AS
SELECT current_database()::varchar(128) AS table_catalog,
       n.nspname::varchar(128) AS table_schema,
       c.relname::varchar(128) AS table_name,
       (CASE WHEN c.relkind IN ('v', 'm') THEN 'VIEW' ELSE 'BASE TABLE' END)::varchar(128) AS table_type,
       obj_description(c.oid, 'pg_class')::varchar(512) AS remarks
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname <> 'redshift_sys'
  AND n.nspname NOT LIKE 'pg\_toast%'
UNION ALL
SELECT redshift_database_name, schemaname, tablename, 'EXTERNAL TABLE', NULL
FROM redshift_sys.svv_external_tables;

CREATE VIEW redshift_sys.svv_columns AS
SELECT current_database()::varchar(128) AS table_catalog,
       col.table_schema::varchar(128) AS table_schema,
       col.table_name::varchar(128) AS table_name,
       col.column_name::varchar(128) AS column_name,
       col.ordinal_position::integer AS ordinal_position,
       col.column_default::varchar(4000) AS column_default,
       col.is_nullable::varchar(3) AS is_nullable,
       col.data_type::varchar(128) AS data_type,
       col.character_maximum_length::integer AS character_maximum_length,
       col.numeric_precision::integer AS numeric_precision,
       col.numeric_precision_radix::integer AS numeric_precision_radix,
       col.numeric_scale::integer AS numeric_scale,
       col.datetime_precision::integer AS datetime_precision,
       col.interval_type::varchar(128) AS interval_type,
       col.interval_precision::varchar(128) AS interval_precision,
       col_description(c.oid, col.ordinal_position::integer)::varchar(256) AS remarks
FROM information_schema.columns AS col
JOIN pg_namespace AS n ON n.nspname = col.table_schema
JOIN pg_class AS c ON c.relnamespace = n.oid AND c.relname = col.table_name
WHERE col.table_schema <> 'redshift_sys'
UNION ALL
SELECT redshift_database_name, schemaname, tablename, columnname, columnnum, NULL, is_nullable,
       external_type, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM redshift_sys.svv_external_columns;

-- svv_table_info: size in 1 MB blocks, rows including deleted-but-not-vacuumed ones (tbl_rows)
-- and without them (estimated_visible_rows). Like Redshift it leaves out empty tables and views.
-- Rows come from pg_class.reltuples: the stand-in runs without autovacuum, tests ANALYZE.
CREATE VIEW redshift_sys.svv_table_info AS
SELECT current_database()::text AS database,
       n.nspname::text AS schema,
       c.oid::bigint AS table_id,
       c.relname::text AS "table",
       'Y'::char(1) AS encoded,
       'AUTO(EVEN)'::text AS diststyle,
       NULL::text AS sortkey1,
       CEIL(pg_total_relation_size(c.oid) / 1048576.0)::bigint AS size,
       (GREATEST(c.reltuples, 0) + COALESCE(s.n_dead_tup, 0))::numeric(38, 0) AS tbl_rows,
       GREATEST(c.reltuples, 0)::numeric(38, 0) AS estimated_visible_rows,
       ct.create_time
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables AS s ON s.relid = c.oid
LEFT JOIN redshift_sys.stand_in_create_times AS ct ON ct.table_oid = c.oid
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'redshift_sys')
  AND n.nspname NOT LIKE 'pg\_%'
  AND pg_relation_size(c.oid) > 0;

-- Query history (SYS views, Redshift Serverless and current provisioned clusters). query_text
-- keeps the first 4,000 characters; sys_query_text has the whole text in 4,000-character rows.
CREATE TABLE redshift_sys.sys_query_history (
    user_id integer,
    query_id bigint,
    query_label character(320),
    transaction_id bigint,
    session_id integer,
    database_name character(128),
    query_type character(32),
    status character(10),
    result_cache_hit boolean,
    start_time timestamp,
    end_time timestamp,
    elapsed_time bigint,
    queue_time bigint,
    execution_time bigint,
    error_message character(512),
    returned_rows bigint,
    returned_bytes bigint,
    query_text character(4000),
    redshift_version character(256),
    usage_limit character(150),
    compute_type character(32),
    compile_time bigint,
    planning_time bigint,
    lock_wait_time bigint,
    service_class_id integer,
    service_class_name character(64),
    user_query_hash character(40),
    generic_query_hash character(40),
    query_hash_version integer
);
CREATE TABLE redshift_sys.sys_query_text (
    user_id integer,
    query_id bigint,
    transaction_id bigint,
    session_id integer,
    start_time timestamp,
    sequence integer,
    text character(4000)
);

-- Query history (STL tables, provisioned clusters only). querytxt keeps the first 4,000
-- characters; stl_querytext has the whole text in 200-character rows with newlines as \n.
CREATE TABLE redshift_sys.stl_query (
    userid integer,
    query integer,
    label character(320),
    xid bigint,
    pid integer,
    database character(32),
    querytxt character(4000),
    starttime timestamp,
    endtime timestamp,
    aborted integer,
    insert_pristine integer,
    concurrency_scaling_status integer
);
CREATE TABLE redshift_sys.stl_querytext (
    userid integer,
    xid bigint,
    pid integer,
    query integer,
    sequence integer,
    text character(200)
);
