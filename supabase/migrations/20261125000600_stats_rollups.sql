-- Statistics rollups: daily counts kept by triggers in the same transaction as the events, so the
-- statistics routes read at most one row per day (per model, or per brand and category) instead of
-- every event of the period.
--
--   stats_daily_model           (day, model) downloads and tags: the models top list
--   stats_daily_brand_category  (day, brand, category) downloads and tags: brands and categories top
--                               lists, the downloads/tags charts and every total (a day holds at most
--                               one row per brand and category pair, whatever the number of events)
--   stats_daily_site            (day) designer registrations, approved interiors, and all downloads and
--                               tags (the admin totals and charts: one row a day)
--
-- What is counted is exactly what the statistics count from the raw tables: downloads and tags of
-- live (not deleted) models only, tags on approved live interiors only, designers (role 3) and
-- approved live interiors by their created_at. Each model row carries the model's current brand
-- and category, so a brand's scope is one index range.
--
-- `day` is the calendar day in the business time zone. A trigger cannot read the app's settings, so
-- the zone is stored in the one-row table stats_settings (Asia/Tashkent, the default of
-- Settings.business_timezone). stats_rebuild(zone) recounts everything for another zone; the API
-- calls it once if BUSINESS_TIMEZONE differs from the stored zone (shared/community/stats_rollups.py).
--
-- Triggers are statement-level with transition tables (one pass per statement, so bulk COPY and
-- INSERT ... SELECT stay fast); deltas are applied in key order (no deadlocks between concurrent
-- statements) by upserts, and rows that fall to zero are removed. (No CHECK (n >= 0) on the counts:
-- an upsert checks the proposed row, a negative delta, before it finds the conflict.)
-- Today's stats_daily_site row is shared by every writer of the day: concurrent downloads, pins and
-- sign-ups queue on its row lock until they commit (short transactions; these events are rare next
-- to reads). Move the totals to per-brand rows if that ever shows up in lock waits.
--
-- Changes that move events in or out of the counts are handled too: a model's brand, category or
-- deletion flag (its rows are recounted from its own events), an interior's status or deletion
-- flag (its pins are added or removed), a profile's role or created_at, an interior's created_at.
-- A hard-deleted interior takes its pins out in a BEFORE DELETE row trigger, because the pins'
-- cascaded delete can no longer see whether their interior was approved. TRUNCATE is not tracked:
-- run SELECT stats_rebuild() after truncating an event table.

CREATE TABLE stats_settings (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    zone text NOT NULL
);
INSERT INTO stats_settings (zone) VALUES ('Asia/Tashkent');

CREATE TABLE stats_daily_model (
    day date NOT NULL,
    model_id uuid NOT NULL,
    brand_id uuid,
    category_id integer NOT NULL,
    downloads integer NOT NULL DEFAULT 0,
    tags integer NOT NULL DEFAULT 0,
    -- the admin top list reads a range of days from the index only
    PRIMARY KEY (day, model_id) INCLUDE (downloads, tags)
);
-- a brand's top list reads one range; a model's rows are found when it changes
CREATE INDEX stats_daily_model_brand ON stats_daily_model (brand_id, day) INCLUDE (model_id, downloads, tags);
CREATE INDEX stats_daily_model_model ON stats_daily_model (model_id);

CREATE TABLE stats_daily_brand_category (
    day date NOT NULL,
    brand_id uuid,
    category_id integer NOT NULL,
    downloads integer NOT NULL DEFAULT 0,
    tags integer NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX stats_daily_brand_category_key ON stats_daily_brand_category (day, brand_id, category_id)
    NULLS NOT DISTINCT;
CREATE INDEX stats_daily_brand_category_brand ON stats_daily_brand_category (brand_id, day)
    INCLUDE (category_id, downloads, tags);

CREATE TABLE stats_daily_site (
    day date PRIMARY KEY,
    registrations integer NOT NULL DEFAULT 0,
    interiors integer NOT NULL DEFAULT 0,
    downloads integer NOT NULL DEFAULT 0,
    tags integer NOT NULL DEFAULT 0
);

CREATE FUNCTION stats_zone() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT zone FROM stats_settings
$$;

-- Apply download/tag deltas (one entry per day and model) to both rollups, in key order.
CREATE FUNCTION stats_apply_events(
    days date[], model_ids uuid[], brand_ids uuid[], category_ids integer[], d_downloads integer[], d_tags integer[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF days IS NULL OR cardinality(days) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO stats_daily_model AS s (day, model_id, brand_id, category_id, downloads, tags)
    SELECT d.day, d.model_id, d.brand_id, d.category_id, d.dl, d.tg
    FROM unnest(days, model_ids, brand_ids, category_ids, d_downloads, d_tags)
         AS d (day, model_id, brand_id, category_id, dl, tg)
    ORDER BY d.day, d.model_id
    ON CONFLICT (day, model_id) DO UPDATE
        SET downloads = s.downloads + excluded.downloads, tags = s.tags + excluded.tags,
            brand_id = excluded.brand_id, category_id = excluded.category_id;
    DELETE FROM stats_daily_model s
    USING unnest(days, model_ids) AS d (day, model_id)
    WHERE s.day = d.day AND s.model_id = d.model_id AND s.downloads = 0 AND s.tags = 0;

    INSERT INTO stats_daily_brand_category AS s (day, brand_id, category_id, downloads, tags)
    SELECT d.day, d.brand_id, d.category_id, sum(d.dl), sum(d.tg)
    FROM unnest(days, brand_ids, category_ids, d_downloads, d_tags) AS d (day, brand_id, category_id, dl, tg)
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (day, brand_id, category_id) DO UPDATE
        SET downloads = s.downloads + excluded.downloads, tags = s.tags + excluded.tags;
    DELETE FROM stats_daily_brand_category s
    USING (SELECT DISTINCT day, brand_id, category_id FROM unnest(days, brand_ids, category_ids)
           AS d (day, brand_id, category_id)) d
    WHERE s.day = d.day AND s.brand_id IS NOT DISTINCT FROM d.brand_id AND s.category_id = d.category_id
      AND s.downloads = 0 AND s.tags = 0;

    INSERT INTO stats_daily_site AS s (day, downloads, tags)
    SELECT d.day, sum(d.dl), sum(d.tg) FROM unnest(days, d_downloads, d_tags) AS d (day, dl, tg)
    GROUP BY 1 ORDER BY 1
    ON CONFLICT (day) DO UPDATE SET downloads = s.downloads + excluded.downloads, tags = s.tags + excluded.tags;
    DELETE FROM stats_daily_site s USING (SELECT DISTINCT day FROM unnest(days) AS d (day)) d
    WHERE s.day = d.day AND s.registrations = 0 AND s.interiors = 0 AND s.downloads = 0 AND s.tags = 0;
END $$;

CREATE FUNCTION stats_apply_site(days date[], d_registrations integer[], d_interiors integer[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF days IS NULL OR cardinality(days) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO stats_daily_site AS s (day, registrations, interiors)
    SELECT d.day, sum(d.r), sum(d.i)
    FROM unnest(days, d_registrations, d_interiors) AS d (day, r, i)
    GROUP BY 1 ORDER BY 1
    ON CONFLICT (day) DO UPDATE
        SET registrations = s.registrations + excluded.registrations, interiors = s.interiors + excluded.interiors;
    DELETE FROM stats_daily_site s USING (SELECT DISTINCT day FROM unnest(days) AS d (day)) d
    WHERE s.day = d.day AND s.registrations = 0 AND s.interiors = 0 AND s.downloads = 0 AND s.tags = 0;
END $$;

-- Downloads: counted when their model is live (a deleted model's rows are gone, see models below).
CREATE FUNCTION stats_downloads_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM stats_apply_events(array_agg(day), array_agg(model_id), array_agg(brand_id), array_agg(category_id),
                                   array_agg(n), array_agg(0))
        FROM (SELECT (e.created_at AT TIME ZONE z)::date AS day, e.model_id, m.brand_id, m.category_id,
                     count(*)::int AS n
              FROM new_rows e JOIN models m ON m.id = e.model_id AND NOT m.is_deleted GROUP BY 1, 2, 3, 4) d;
    ELSE
        PERFORM stats_apply_events(array_agg(day), array_agg(model_id), array_agg(brand_id), array_agg(category_id),
                                   array_agg(n), array_agg(0))
        FROM (SELECT (e.created_at AT TIME ZONE z)::date AS day, e.model_id, m.brand_id, m.category_id,
                     -count(*)::int AS n
              FROM old_rows e JOIN models m ON m.id = e.model_id AND NOT m.is_deleted GROUP BY 1, 2, 3, 4) d;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_downloads_ins AFTER INSERT ON downloads REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_downloads_trigger();
CREATE TRIGGER stats_downloads_del AFTER DELETE ON downloads REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_downloads_trigger();

-- Updates that move an event (rare: nothing in the API does it) are row-level, filtered by WHEN
-- (transition tables cannot be combined with a column list, and counter bumps must stay free).
CREATE FUNCTION stats_downloads_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
BEGIN
    PERFORM stats_apply_events(ARRAY[(OLD.created_at AT TIME ZONE z)::date], ARRAY[m.id], ARRAY[m.brand_id],
                               ARRAY[m.category_id], ARRAY[-1], ARRAY[0])
    FROM models m WHERE m.id = OLD.model_id AND NOT m.is_deleted;
    PERFORM stats_apply_events(ARRAY[(NEW.created_at AT TIME ZONE z)::date], ARRAY[m.id], ARRAY[m.brand_id],
                               ARRAY[m.category_id], ARRAY[1], ARRAY[0])
    FROM models m WHERE m.id = NEW.model_id AND NOT m.is_deleted;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_downloads_upd AFTER UPDATE OF model_id, created_at ON downloads FOR EACH ROW
    WHEN ((OLD.model_id, OLD.created_at) IS DISTINCT FROM (NEW.model_id, NEW.created_at))
    EXECUTE FUNCTION stats_downloads_moved();

-- Tags (pins): counted when their interior is approved and live and their model is live.
CREATE FUNCTION stats_tags_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
BEGIN
    -- A share lock on the pins' interiors and models waits out (and then blocks) a concurrent change
    -- of their status or brand, whose recount would otherwise miss these pins. The next statement's
    -- snapshot sees what such a change committed. (Downloads need none: the row trigger bumping
    -- models.downloads_count already holds the model's row lock.)
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM interiors WHERE id IN (SELECT interior_id FROM new_rows) ORDER BY id FOR SHARE;
        PERFORM 1 FROM models WHERE id IN (SELECT model_id FROM new_rows) ORDER BY id FOR SHARE;
    ELSE
        PERFORM 1 FROM interiors WHERE id IN (SELECT interior_id FROM old_rows) ORDER BY id FOR SHARE;
        PERFORM 1 FROM models WHERE id IN (SELECT model_id FROM old_rows) ORDER BY id FOR SHARE;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM stats_apply_events(array_agg(day), array_agg(model_id), array_agg(brand_id), array_agg(category_id),
                                   array_agg(0), array_agg(n))
        FROM (SELECT (e.created_at AT TIME ZONE z)::date AS day, e.model_id, m.brand_id, m.category_id,
                     count(*)::int AS n
              FROM new_rows e
              JOIN interiors i ON i.id = e.interior_id AND i.status = 1 AND NOT i.is_deleted
              JOIN models m ON m.id = e.model_id AND NOT m.is_deleted GROUP BY 1, 2, 3, 4) d;
    ELSE
        PERFORM stats_apply_events(array_agg(day), array_agg(model_id), array_agg(brand_id), array_agg(category_id),
                                   array_agg(0), array_agg(n))
        FROM (SELECT (e.created_at AT TIME ZONE z)::date AS day, e.model_id, m.brand_id, m.category_id,
                     -count(*)::int AS n
              FROM old_rows e
              JOIN interiors i ON i.id = e.interior_id AND i.status = 1 AND NOT i.is_deleted
              JOIN models m ON m.id = e.model_id AND NOT m.is_deleted GROUP BY 1, 2, 3, 4) d;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_tags_ins AFTER INSERT ON interior_tags REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_tags_trigger();
CREATE TRIGGER stats_tags_del AFTER DELETE ON interior_tags REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_tags_trigger();

CREATE FUNCTION stats_tags_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
BEGIN
    PERFORM 1 FROM interiors WHERE id IN (OLD.interior_id, NEW.interior_id) ORDER BY id FOR SHARE;
    PERFORM 1 FROM models WHERE id IN (OLD.model_id, NEW.model_id) ORDER BY id FOR SHARE;
    PERFORM stats_apply_events(ARRAY[(OLD.created_at AT TIME ZONE z)::date], ARRAY[m.id], ARRAY[m.brand_id],
                               ARRAY[m.category_id], ARRAY[0], ARRAY[-1])
    FROM models m JOIN interiors i ON i.id = OLD.interior_id AND i.status = 1 AND NOT i.is_deleted
    WHERE m.id = OLD.model_id AND NOT m.is_deleted;
    PERFORM stats_apply_events(ARRAY[(NEW.created_at AT TIME ZONE z)::date], ARRAY[m.id], ARRAY[m.brand_id],
                               ARRAY[m.category_id], ARRAY[0], ARRAY[1])
    FROM models m JOIN interiors i ON i.id = NEW.interior_id AND i.status = 1 AND NOT i.is_deleted
    WHERE m.id = NEW.model_id AND NOT m.is_deleted;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_tags_upd AFTER UPDATE OF interior_id, model_id, created_at ON interior_tags FOR EACH ROW
    WHEN ((OLD.interior_id, OLD.model_id, OLD.created_at)
          IS DISTINCT FROM (NEW.interior_id, NEW.model_id, NEW.created_at))
    EXECUTE FUNCTION stats_tags_moved();

-- Models: a change of brand, category or deletion flag recounts the model's rows from its own
-- events (bounded by that model's history); a hard delete drops them (the cascaded event deletes
-- cannot see the model any more, so they subtract nothing).
CREATE FUNCTION stats_recount_models(changed uuid[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
BEGIN
    -- out with the old rows (each falls to zero and is removed), in with a recount of the live ones
    PERFORM stats_apply_events(array_agg(day), array_agg(model_id), array_agg(brand_id), array_agg(category_id),
                               array_agg(-downloads), array_agg(-tags))
    FROM stats_daily_model WHERE model_id = ANY (changed);
    PERFORM stats_apply_events(array_agg(day), array_agg(model_id), array_agg(brand_id),
                               array_agg(category_id), array_agg(dl), array_agg(tg))
    FROM (
        SELECT day, model_id, brand_id, category_id, sum(dl)::int AS dl, sum(tg)::int AS tg FROM (
            SELECT (e.created_at AT TIME ZONE z)::date AS day, m.id AS model_id, m.brand_id, m.category_id,
                   1 AS dl, 0 AS tg
            FROM models m JOIN downloads e ON e.model_id = m.id
            WHERE m.id = ANY (changed) AND NOT m.is_deleted
            UNION ALL
            SELECT (e.created_at AT TIME ZONE z)::date, m.id, m.brand_id, m.category_id, 0, 1
            FROM models m JOIN interior_tags e ON e.model_id = m.id
            JOIN interiors i ON i.id = e.interior_id AND i.status = 1 AND NOT i.is_deleted
            WHERE m.id = ANY (changed) AND NOT m.is_deleted
        ) x GROUP BY 1, 2, 3, 4
    ) d;
END $$;

CREATE FUNCTION stats_models_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stats_recount_models(ARRAY[NEW.id]);
    RETURN NULL;
END $$;
CREATE TRIGGER stats_models_upd AFTER UPDATE OF brand_id, category_id, is_deleted ON models FOR EACH ROW
    WHEN ((OLD.brand_id, OLD.category_id, OLD.is_deleted)
          IS DISTINCT FROM (NEW.brand_id, NEW.category_id, NEW.is_deleted))
    EXECUTE FUNCTION stats_models_changed();

CREATE FUNCTION stats_models_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stats_recount_models(array_agg(id)) FROM old_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_models_del AFTER DELETE ON models REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_models_deleted();

-- Interiors: approved live interiors by created_at day. A change of status or deletion flag adds or
-- removes the interior's pins (pins are inserted after their interior, so an insert has none yet).
CREATE FUNCTION stats_interiors_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM stats_apply_site(array_agg(day), array_agg(0), array_agg(n))
        FROM (SELECT (created_at AT TIME ZONE z)::date AS day, count(*)::int AS n FROM new_rows
              WHERE status = 1 AND NOT is_deleted GROUP BY 1) d;
    ELSE
        PERFORM stats_apply_site(array_agg(day), array_agg(0), array_agg(n))
        FROM (SELECT (created_at AT TIME ZONE z)::date AS day, -count(*)::int AS n FROM old_rows
              WHERE status = 1 AND NOT is_deleted GROUP BY 1) d;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_interiors_ins AFTER INSERT ON interiors REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_interiors_trigger();
CREATE TRIGGER stats_interiors_del AFTER DELETE ON interiors REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_interiors_trigger();

-- The pins of an interior, signed, into the rollups.
CREATE FUNCTION stats_interior_pins(interior uuid, sign integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
BEGIN
    PERFORM stats_apply_events(array_agg(day), array_agg(model_id), array_agg(brand_id),
                               array_agg(category_id), array_agg(0), array_agg(n))
    FROM (SELECT (e.created_at AT TIME ZONE z)::date AS day, e.model_id, m.brand_id, m.category_id,
                 sign * count(*)::int AS n
          FROM interior_tags e JOIN models m ON m.id = e.model_id AND NOT m.is_deleted
          WHERE e.interior_id = interior GROUP BY 1, 2, 3, 4) d;
END $$;

CREATE FUNCTION stats_interiors_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
    was boolean := OLD.status = 1 AND NOT OLD.is_deleted;
    now_counted boolean := NEW.status = 1 AND NOT NEW.is_deleted;
BEGIN
    IF was THEN
        PERFORM stats_apply_site(ARRAY[(OLD.created_at AT TIME ZONE z)::date], ARRAY[0], ARRAY[-1]);
    END IF;
    IF now_counted THEN
        PERFORM stats_apply_site(ARRAY[(NEW.created_at AT TIME ZONE z)::date], ARRAY[0], ARRAY[1]);
    END IF;
    IF was <> now_counted THEN
        PERFORM stats_interior_pins(NEW.id, CASE WHEN now_counted THEN 1 ELSE -1 END);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_interiors_upd AFTER UPDATE OF status, is_deleted, created_at ON interiors FOR EACH ROW
    WHEN ((OLD.status, OLD.is_deleted, OLD.created_at) IS DISTINCT FROM (NEW.status, NEW.is_deleted, NEW.created_at))
    EXECUTE FUNCTION stats_interiors_changed();

CREATE FUNCTION stats_interior_delete_pins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stats_interior_pins(OLD.id, -1);
    RETURN OLD;
END $$;
CREATE TRIGGER stats_interior_delete_pins BEFORE DELETE ON interiors FOR EACH ROW
    WHEN (OLD.status = 1 AND NOT OLD.is_deleted)
    EXECUTE FUNCTION stats_interior_delete_pins();

-- Profiles: designers (role 3) by created_at day.
CREATE FUNCTION stats_profiles_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM stats_apply_site(array_agg(day), array_agg(n), array_agg(0))
        FROM (SELECT (created_at AT TIME ZONE z)::date AS day, count(*)::int AS n FROM new_rows
              WHERE role_id = 3 GROUP BY 1) d;
    ELSE
        PERFORM stats_apply_site(array_agg(day), array_agg(n), array_agg(0))
        FROM (SELECT (created_at AT TIME ZONE z)::date AS day, -count(*)::int AS n FROM old_rows
              WHERE role_id = 3 GROUP BY 1) d;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_profiles_ins AFTER INSERT ON profiles REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_profiles_trigger();
CREATE TRIGGER stats_profiles_del AFTER DELETE ON profiles REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_profiles_trigger();

CREATE FUNCTION stats_profiles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z text := stats_zone();
BEGIN
    IF OLD.role_id = 3 THEN
        PERFORM stats_apply_site(ARRAY[(OLD.created_at AT TIME ZONE z)::date], ARRAY[-1], ARRAY[0]);
    END IF;
    IF NEW.role_id = 3 THEN
        PERFORM stats_apply_site(ARRAY[(NEW.created_at AT TIME ZONE z)::date], ARRAY[1], ARRAY[0]);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_profiles_upd AFTER UPDATE OF role_id, created_at ON profiles FOR EACH ROW
    WHEN ((OLD.role_id, OLD.created_at) IS DISTINCT FROM (NEW.role_id, NEW.created_at))
    EXECUTE FUNCTION stats_profiles_changed();

-- Recount everything from the raw tables, optionally for another time zone. Takes exclusive locks
-- on the rollups so no trigger applies a delta meanwhile (writers of events wait until it commits).
CREATE FUNCTION stats_rebuild(new_zone text DEFAULT NULL) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    z text;
BEGIN
    LOCK TABLE stats_settings, stats_daily_model, stats_daily_brand_category, stats_daily_site IN EXCLUSIVE MODE;
    IF new_zone IS NOT NULL THEN
        PERFORM now() AT TIME ZONE new_zone; -- an unknown zone raises here
        UPDATE stats_settings SET zone = new_zone;
    END IF;
    z := stats_zone();
    DELETE FROM stats_daily_model;
    DELETE FROM stats_daily_brand_category;
    DELETE FROM stats_daily_site;
    INSERT INTO stats_daily_model (day, model_id, brand_id, category_id, downloads, tags)
    SELECT day, model_id, brand_id, category_id, sum(dl), sum(tg) FROM (
        SELECT (e.created_at AT TIME ZONE z)::date AS day, m.id AS model_id, m.brand_id, m.category_id,
               1 AS dl, 0 AS tg
        FROM downloads e JOIN models m ON m.id = e.model_id AND NOT m.is_deleted
        UNION ALL
        SELECT (e.created_at AT TIME ZONE z)::date, m.id, m.brand_id, m.category_id, 0, 1
        FROM interior_tags e JOIN interiors i ON i.id = e.interior_id AND i.status = 1 AND NOT i.is_deleted
        JOIN models m ON m.id = e.model_id AND NOT m.is_deleted
    ) x GROUP BY 1, 2, 3, 4;
    INSERT INTO stats_daily_brand_category (day, brand_id, category_id, downloads, tags)
    SELECT day, brand_id, category_id, sum(downloads), sum(tags) FROM stats_daily_model GROUP BY 1, 2, 3;
    INSERT INTO stats_daily_site (day, registrations, interiors, downloads, tags)
    SELECT day, sum(r), sum(i), sum(dl), sum(tg) FROM (
        SELECT (created_at AT TIME ZONE z)::date AS day, 1 AS r, 0 AS i, 0 AS dl, 0 AS tg
        FROM profiles WHERE role_id = 3
        UNION ALL
        SELECT (created_at AT TIME ZONE z)::date, 0, 1, 0, 0 FROM interiors WHERE status = 1 AND NOT is_deleted
        UNION ALL
        SELECT day, 0, 0, downloads, tags FROM stats_daily_model
    ) x GROUP BY 1;
END $$;

SELECT stats_rebuild();
ANALYZE stats_daily_model;
ANALYZE stats_daily_brand_category;
ANALYZE stats_daily_site;
