-- Catalogue: dictionaries, brands, models with images, materials, colours; downloads.
-- Rules from the API contract are mirrored as constraints, so a bug in a route cannot store
-- what the contract forbids. Dictionary rows in use are protected by ON DELETE RESTRICT (409).

CREATE TABLE countries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX countries_name_key ON countries (lower(name));

CREATE TABLE colors (
    id serial PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    hex_value text NOT NULL CHECK (hex_value ~ '^#[0-9a-fA-F]{6}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX colors_name_key ON colors (lower(name));

CREATE TABLE materials (
    id serial PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX materials_name_key ON materials (lower(name));

-- type: 1 model styles, 2 interior styles
CREATE TABLE styles (
    id serial PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    type smallint NOT NULL DEFAULT 1 CHECK (type IN (1, 2)),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX styles_name_type_key ON styles (lower(name), type);

-- type: 1 modelling software, 2 renderer
CREATE TABLE platforms (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    type smallint NOT NULL CHECK (type IN (1, 2)),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX platforms_name_type_key ON platforms (lower(name), type);

-- Two levels at most (a parent has no parent): enforced by the trigger below.
CREATE TABLE categories (
    id serial PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    type text NOT NULL DEFAULT 'model' CHECK (type IN ('model', 'interior')),
    section text CHECK (char_length(section) <= 100),
    description text CHECK (char_length(description) <= 2000),
    parent_id integer REFERENCES categories (id) ON DELETE SET NULL,
    image_src text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX categories_name_key ON categories (lower(name), type, coalesce(parent_id, 0));
CREATE INDEX categories_parent ON categories (parent_id);

CREATE FUNCTION categories_two_levels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM categories WHERE id = NEW.parent_id AND parent_id IS NOT NULL) THEN
            RAISE EXCEPTION 'categories nest two levels at most' USING ERRCODE = 'check_violation',
                CONSTRAINT = 'categories_two_levels';
        END IF;
        IF EXISTS (SELECT 1 FROM categories WHERE parent_id = NEW.id) THEN
            RAISE EXCEPTION 'a category with children cannot get a parent' USING ERRCODE = 'check_violation',
                CONSTRAINT = 'categories_two_levels';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER categories_two_levels BEFORE INSERT OR UPDATE OF parent_id ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_two_levels();

CREATE TABLE brands (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug citext NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,120}$'),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description text CHECK (char_length(description) <= 5000),
    site_link text CHECK (char_length(site_link) <= 300),
    phone text CHECK (char_length(phone) <= 40),
    email citext CHECK (char_length(email) <= 254),
    instagram text CHECK (char_length(instagram) <= 200),
    address text CHECK (char_length(address) <= 300),
    country_id uuid REFERENCES countries (id) ON DELETE RESTRICT,
    logo text,
    models_count integer NOT NULL DEFAULT 0 CHECK (models_count >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX brands_country ON brands (country_id);
CREATE INDEX brands_created ON brands (created_at DESC, id DESC);
CREATE INDEX brands_name_trgm ON brands USING gin (name gin_trgm_ops);

CREATE TABLE brand_styles (
    brand_id uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    style_id integer NOT NULL REFERENCES styles (id) ON DELETE RESTRICT,
    PRIMARY KEY (brand_id, style_id)
);
CREATE INDEX brand_styles_style ON brand_styles (style_id);

-- A brand's admin accounts are profiles with role brand and brand_id set.
ALTER TABLE profiles ADD CONSTRAINT profiles_brand_fk
    FOREIGN KEY (brand_id) REFERENCES brands (id) ON DELETE SET NULL;
CREATE INDEX profiles_brand ON profiles (brand_id) WHERE brand_id IS NOT NULL;

-- availability: 1 available, 2 unavailable, 3 to order. An unavailable model is never `top`.
-- Counters are denormalised for sorting; see the engagement migrations for how they are kept.
CREATE TABLE models (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug citext NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,140}$'),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description text CHECK (char_length(description) <= 10000),
    brand_id uuid REFERENCES brands (id) ON DELETE SET NULL,
    category_id integer NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
    style_id integer REFERENCES styles (id) ON DELETE RESTRICT,
    model_platform_id uuid REFERENCES platforms (id) ON DELETE RESTRICT,
    render_platform_id uuid REFERENCES platforms (id) ON DELETE RESTRICT,
    availability smallint NOT NULL DEFAULT 1 CHECK (availability IN (1, 2, 3)),
    top boolean NOT NULL DEFAULT false,
    furniture_cost numeric(14, 2) CHECK (furniture_cost >= 0),
    length numeric(10, 2) CHECK (length >= 0),
    width numeric(10, 2) CHECK (width >= 0),
    height numeric(10, 2) CHECK (height >= 0),
    -- the archive in the private files bucket; never exposed as a URL, only signed downloads
    file_key text,
    file_name text CHECK (char_length(file_name) <= 255),
    file_size bigint CHECK (file_size >= 0),
    file_ext text CHECK (char_length(file_ext) <= 10),
    views_count bigint NOT NULL DEFAULT 0 CHECK (views_count >= 0),
    likes_count integer NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
    saves_count integer NOT NULL DEFAULT 0 CHECK (saves_count >= 0),
    downloads_count integer NOT NULL DEFAULT 0 CHECK (downloads_count >= 0),
    is_deleted boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT (top AND availability = 2))
);
-- Lists show live models only, unavailable ones last ((availability = 2) sorts false first),
-- then by the requested column with id as tie-breaker: one index per orderBy keeps every
-- first page and every keyset page an index scan.
CREATE INDEX models_live_created ON models ((availability = 2), created_at DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX models_live_name ON models ((availability = 2), name, id) WHERE NOT is_deleted;
CREATE INDEX models_live_views ON models ((availability = 2), views_count DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX models_live_likes ON models ((availability = 2), likes_count DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX models_live_saves ON models ((availability = 2), saves_count DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX models_live_downloads ON models ((availability = 2), downloads_count DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX models_brand ON models (brand_id, created_at DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX models_category ON models (category_id, created_at DESC, id DESC) WHERE NOT is_deleted;
-- styles[] with categories[]: one index answers both (and the capped count) without heap visits
CREATE INDEX models_style_category ON models (style_id, category_id) WHERE NOT is_deleted;
CREATE INDEX models_top ON models (created_at DESC, id DESC) WHERE top AND NOT is_deleted;
CREATE INDEX models_name_trgm ON models USING gin (name gin_trgm_ops);
CREATE INDEX models_deleted ON models (deleted_at) WHERE is_deleted;
-- free_slug() looks for `<base>-N` siblings with a prefix match
CREATE INDEX models_file_key ON models (file_key) WHERE file_key IS NOT NULL;
CREATE INDEX models_slug_prefix ON models ((slug::text) text_pattern_ops);

CREATE TABLE model_images (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    image_src text NOT NULL,
    is_main boolean NOT NULL DEFAULT false,
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_images_model ON model_images (model_id, is_main DESC, position, created_at);
CREATE UNIQUE INDEX model_images_one_cover ON model_images (model_id) WHERE is_main;
-- objects may be shared (seeded data reuses one image set): delete one only when no row uses it
CREATE INDEX model_images_src ON model_images (image_src);

CREATE TABLE model_materials (
    model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    material_id integer NOT NULL REFERENCES materials (id) ON DELETE RESTRICT,
    PRIMARY KEY (model_id, material_id)
);
CREATE INDEX model_materials_material ON model_materials (material_id, model_id);

CREATE TABLE model_colors (
    model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    color_id integer NOT NULL REFERENCES colors (id) ON DELETE RESTRICT,
    PRIMARY KEY (model_id, color_id)
);
CREATE INDEX model_colors_color ON model_colors (color_id, model_id);

-- A user's first download of a model; brand and admin accounts are not recorded.
CREATE TABLE downloads (
    id bigserial PRIMARY KEY,
    user_id uuid REFERENCES profiles (id) ON DELETE SET NULL,
    model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, model_id)
);
CREATE INDEX downloads_model ON downloads (model_id, created_at DESC);
CREATE INDEX downloads_created ON downloads (created_at DESC);

-- Every download request (first or not) counts against the per-user daily quota.
CREATE TABLE download_requests (
    id bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX download_requests_user_day ON download_requests (user_id, created_at DESC);

CREATE INDEX downloads_user ON downloads (user_id, created_at DESC);

-- Times in JSON built by SQL, in the contract's shape (ISO 8601 UTC with Z).
-- STABLE like to_char, so the planner inlines it.
CREATE FUNCTION iso_utc(ts timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- brands.models_count counts a brand's live models. Statement-level triggers with transition
-- tables: one UPDATE per touched brand per statement, so bulk loads (COPY) stay fast and a
-- single-row write costs one small UPDATE.
CREATE FUNCTION brands_models_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE brands b SET models_count = b.models_count + d.n
        FROM (SELECT brand_id, count(*) AS n FROM new_rows
              WHERE brand_id IS NOT NULL AND NOT is_deleted GROUP BY brand_id) d
        WHERE b.id = d.brand_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE brands b SET models_count = greatest(b.models_count - d.n, 0)
        FROM (SELECT brand_id, count(*) AS n FROM old_rows
              WHERE brand_id IS NOT NULL AND NOT is_deleted GROUP BY brand_id) d
        WHERE b.id = d.brand_id;
    ELSE
        UPDATE brands b SET models_count = greatest(b.models_count + d.n, 0)
        FROM (SELECT brand_id, sum(n) AS n FROM (
                  SELECT brand_id, 1 AS n FROM new_rows WHERE brand_id IS NOT NULL AND NOT is_deleted
                  UNION ALL
                  SELECT brand_id, -1 FROM old_rows WHERE brand_id IS NOT NULL AND NOT is_deleted) x
              GROUP BY brand_id HAVING sum(n) <> 0) d
        WHERE b.id = d.brand_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER models_count_insert AFTER INSERT ON models REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION brands_models_count_apply();
CREATE TRIGGER models_count_update AFTER UPDATE ON models
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION brands_models_count_apply();
CREATE TRIGGER models_count_delete AFTER DELETE ON models REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION brands_models_count_apply();

-- A first download bumps the model's and the user's counters in the same transaction. Downloads
-- are rare next to views (one row per user and model, ever), so the row update is not a hot spot.
CREATE FUNCTION downloads_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE models SET downloads_count = downloads_count + 1 WHERE id = NEW.model_id;
        IF NEW.user_id IS NOT NULL THEN
            UPDATE profiles SET downloads_count = downloads_count + 1 WHERE id = NEW.user_id;
        END IF;
    ELSE
        UPDATE models SET downloads_count = greatest(downloads_count - 1, 0) WHERE id = OLD.model_id;
        IF OLD.user_id IS NOT NULL THEN
            UPDATE profiles SET downloads_count = greatest(downloads_count - 1, 0) WHERE id = OLD.user_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER downloads_counters AFTER INSERT OR DELETE ON downloads
    FOR EACH ROW EXECUTE FUNCTION downloads_counters();

-- Views: a read appends one row here (no row is shared between readers, so no lock waits), after
-- the response is sent. Whoever wins pg_try_advisory_xact_lock folds the pending rows into
-- models.views_count; everyone else returns at once. The fold only deletes rows its snapshot
-- sees, so views appended meanwhile wait for the next fold.
CREATE TABLE model_view_events (
    id bigserial PRIMARY KEY,
    model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    viewer_id uuid,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION fold_model_views() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    folded integer := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(7402119) THEN
        RETURN 0;
    END IF;
    WITH gone AS (DELETE FROM model_view_events RETURNING model_id),
         agg AS (SELECT model_id, count(*) AS n FROM gone GROUP BY model_id)
    UPDATE models m SET views_count = m.views_count + agg.n FROM agg WHERE m.id = agg.model_id;
    GET DIAGNOSTICS folded = ROW_COUNT;
    RETURN folded;
END $$;
