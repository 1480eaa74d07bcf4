-- Close the project's tables, sequences and functions to Supabase's Data API.
--
-- A Supabase project serves the schemas it exposes (`public` by default) through PostgREST to the
-- `anon` and `authenticated` roles, whose key is public by design, and grants those roles every
-- privilege on new objects in `public`. Our API connects as the owner and never needs them, so:
--   * row-level security is on for every table our migrations create (no policies: for any role
--     but the owner and BYPASSRLS roles a table has no visible rows), and
--   * `anon` and `authenticated` hold no privilege on our tables, sequences or functions, nor on
--     objects created later (default privileges), and no project function is executable by PUBLIC.
-- On a plain PostgreSQL (the embedded default) those roles do not exist and only the RLS and PUBLIC
-- parts apply. Later migrations need not repeat anything but `ENABLE ROW LEVEL SECURITY` on a new
-- table (a test walks the catalogue and fails on a table without it).
DO $lockdown$
DECLARE
    api_roles text;
    object record;
BEGIN
    SELECT string_agg(quote_ident(rolname), ', ') INTO api_roles
      FROM pg_roles WHERE rolname IN ('anon', 'authenticated');

    FOR object IN
        SELECT c.oid::regclass AS name
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'builtin_auth')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                            AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', object.name);
    END LOOP;

    FOR object IN
        SELECT p.oid::regprocedure AS signature
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname IN ('public', 'builtin_auth')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                            AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', object.signature);
        IF api_roles IS NOT NULL THEN
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %s', object.signature, api_roles);
        END IF;
    END LOOP;
    ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

    IF api_roles IS NOT NULL THEN
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public, builtin_auth FROM %s', api_roles);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public, builtin_auth FROM %s', api_roles);
        EXECUTE format('REVOKE ALL ON SCHEMA builtin_auth FROM %s', api_roles);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM %s', api_roles);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM %s', api_roles);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM %s', api_roles);
        EXECUTE format('ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM %s', api_roles);
        EXECUTE format('ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM %s', api_roles);
        EXECUTE format('ALTER DEFAULT PRIVILEGES REVOKE ALL ON FUNCTIONS FROM %s', api_roles);
    END IF;
END
$lockdown$;
