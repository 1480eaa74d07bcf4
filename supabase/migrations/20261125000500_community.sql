-- Community: interiors with images and model pins (tags), likes, views, saved models/interiors,
-- comments with likes, notifications, projects; and the indexes the statistics read.
--
-- Counters (interiors.*_count, models.saves_count, comments.likes_count, profiles.designs_count,
-- profiles.tags_count, projects.models_count) are kept by STATEMENT-level triggers with transition
-- tables: one UPDATE per statement however many rows it touched (bulk COPY in the seed stays fast),
-- and because likes/saves are written with ON CONFLICT DO NOTHING / plain DELETE, the transition
-- tables hold exactly the rows that changed, so concurrent likes and unlikes never drift from
-- COUNT(*). Author counters are recomputed (not incremented) from indexed counts, so they can
-- never drift either.

-- Interiors ---------------------------------------------------------------------------------------

-- status: 0 pending (moderation), 1 approved, 2 rejected. The public sees approved, non-deleted only.
CREATE TABLE interiors (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug citext NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,140}$'),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description text CHECK (char_length(description) <= 10000),
    author_id uuid REFERENCES profiles (id) ON DELETE SET NULL,
    category_id integer REFERENCES categories (id) ON DELETE RESTRICT,
    style_id integer REFERENCES styles (id) ON DELETE RESTRICT,
    render_platform_id uuid REFERENCES platforms (id) ON DELETE RESTRICT,
    status smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
    views_count bigint NOT NULL DEFAULT 0 CHECK (views_count >= 0),
    likes_count integer NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
    saves_count integer NOT NULL DEFAULT 0 CHECK (saves_count >= 0),
    comments_count integer NOT NULL DEFAULT 0 CHECK (comments_count >= 0),
    is_deleted boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Public lists: approved and live, one index per orderBy (id breaks ties; keyset cursors seek).
CREATE INDEX interiors_public_created ON interiors (created_at DESC, id DESC) WHERE status = 1 AND NOT is_deleted;
CREATE INDEX interiors_public_views ON interiors (views_count DESC, id DESC) WHERE status = 1 AND NOT is_deleted;
CREATE INDEX interiors_public_likes ON interiors (likes_count DESC, id DESC) WHERE status = 1 AND NOT is_deleted;
CREATE INDEX interiors_public_saves ON interiors (saves_count DESC, id DESC) WHERE status = 1 AND NOT is_deleted;
-- Admin lists by status, the author's own list, filters, statistics.
CREATE INDEX interiors_status_created ON interiors (status, created_at DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX interiors_author ON interiors (author_id, created_at DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX interiors_category ON interiors (category_id) WHERE NOT is_deleted;
CREATE INDEX interiors_style ON interiors (style_id) WHERE NOT is_deleted;
CREATE INDEX interiors_platform ON interiors (render_platform_id) WHERE NOT is_deleted;
CREATE INDEX interiors_name_trgm ON interiors USING gin (name gin_trgm_ops);
CREATE INDEX interiors_created_stats ON interiors (created_at) WHERE status = 1 AND NOT is_deleted;

CREATE TABLE interior_images (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    interior_id uuid NOT NULL REFERENCES interiors (id) ON DELETE CASCADE,
    image_src text NOT NULL,
    is_main boolean NOT NULL DEFAULT false,
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, interior_id) -- target of the tags' composite key: a pin's image belongs to its interior
);
CREATE INDEX interior_images_interior ON interior_images (interior_id, is_main DESC, position, created_at);
CREATE UNIQUE INDEX interior_images_one_cover ON interior_images (interior_id) WHERE is_main;

-- Tags: model pins on an interior image, x and y in percent of the image.
CREATE TABLE interior_tags (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    interior_id uuid NOT NULL REFERENCES interiors (id) ON DELETE CASCADE,
    interior_image_id uuid NOT NULL,
    model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    user_id uuid REFERENCES profiles (id) ON DELETE SET NULL,
    x numeric(6, 3) NOT NULL CHECK (x BETWEEN 0 AND 100),
    y numeric(6, 3) NOT NULL CHECK (y BETWEEN 0 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (interior_image_id, interior_id) REFERENCES interior_images (id, interior_id) ON DELETE CASCADE
);
CREATE INDEX interior_tags_interior ON interior_tags (interior_id, created_at);
CREATE INDEX interior_tags_image ON interior_tags (interior_image_id);
CREATE INDEX interior_tags_model ON interior_tags (model_id, interior_id);
CREATE INDEX interior_tags_created ON interior_tags (created_at, model_id);

CREATE TABLE interior_likes (
    interior_id uuid NOT NULL REFERENCES interiors (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (interior_id, user_id)
);
CREATE INDEX interior_likes_user ON interior_likes (user_id, created_at DESC);

-- One row per unique viewer: a signed-in user's id, or md5(ip, user agent) as a uuid for visitors.
CREATE TABLE interior_views (
    interior_id uuid NOT NULL REFERENCES interiors (id) ON DELETE CASCADE,
    viewer uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (interior_id, viewer)
);

-- Saved (bookmarks) --------------------------------------------------------------------------------

CREATE TABLE saved_models (
    user_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, model_id)
);
CREATE INDEX saved_models_user ON saved_models (user_id, created_at DESC, model_id);
CREATE INDEX saved_models_model ON saved_models (model_id);

CREATE TABLE saved_interiors (
    user_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    interior_id uuid NOT NULL REFERENCES interiors (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, interior_id)
);
CREATE INDEX saved_interiors_user ON saved_interiors (user_id, created_at DESC, interior_id);
CREATE INDEX saved_interiors_interior ON saved_interiors (interior_id);

-- Comments (one level of replies) ----------------------------------------------------------------------

CREATE TABLE comments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id uuid REFERENCES models (id) ON DELETE CASCADE,
    interior_id uuid REFERENCES interiors (id) ON DELETE CASCADE,
    parent_id uuid REFERENCES comments (id) ON DELETE CASCADE,
    user_id uuid REFERENCES profiles (id) ON DELETE SET NULL,
    text text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 2048),
    likes_count integer NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((model_id IS NULL) <> (interior_id IS NULL)),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX comments_model ON comments (model_id, created_at DESC) WHERE parent_id IS NULL AND model_id IS NOT NULL;
CREATE INDEX comments_interior ON comments (interior_id, created_at DESC)
    WHERE parent_id IS NULL AND interior_id IS NOT NULL;
CREATE INDEX comments_parent ON comments (parent_id, created_at) WHERE parent_id IS NOT NULL;
CREATE INDEX comments_user ON comments (user_id);

CREATE TABLE comment_likes (
    comment_id uuid NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (comment_id, user_id)
);
CREATE INDEX comment_likes_user ON comment_likes (user_id);

-- Notifications -------------------------------------------------------------------------------------

-- type: download, interior_like, comment, reply, comment_like, tag, interior_approved,
-- interior_rejected, ban (other groups insert too, so the column checks the shape, not a list).
CREATE TABLE notifications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    actor_id uuid REFERENCES profiles (id) ON DELETE SET NULL,
    type text NOT NULL CHECK (type ~ '^[a-z_]{1,40}$'),
    text text CHECK (char_length(text) <= 2048),
    model_id uuid REFERENCES models (id) ON DELETE CASCADE,
    interior_id uuid REFERENCES interiors (id) ON DELETE CASCADE,
    comment_id uuid REFERENCES comments (id) ON DELETE CASCADE,
    seen boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unseen ON notifications (user_id) WHERE NOT seen;
CREATE INDEX notifications_actor ON notifications (actor_id) WHERE actor_id IS NOT NULL;

-- Projects ------------------------------------------------------------------------------------------

CREATE TABLE projects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description text CHECK (char_length(description) <= 2000),
    models_count integer NOT NULL DEFAULT 0 CHECK (models_count >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_user ON projects (user_id, created_at DESC, id DESC);

CREATE TABLE project_models (
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, model_id)
);
CREATE INDEX project_models_model ON project_models (model_id);

-- Statistics: registrations by day (designers) are served by profiles_role_created; downloads by
-- downloads_created. A covering index lets the per-model download top lists read the index only.
CREATE INDEX downloads_created_model ON downloads (created_at, model_id);

-- Counter triggers ----------------------------------------------------------------------------------

-- One function per (child, parent) pair keeps the SQL plain and plannable.

CREATE FUNCTION interior_likes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE interiors i SET likes_count = i.likes_count + d.n
        FROM (SELECT interior_id, count(*) AS n FROM new_rows GROUP BY interior_id) d WHERE i.id = d.interior_id;
    ELSE
        UPDATE interiors i SET likes_count = greatest(i.likes_count - d.n, 0)
        FROM (SELECT interior_id, count(*) AS n FROM old_rows GROUP BY interior_id) d WHERE i.id = d.interior_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER interior_likes_ins AFTER INSERT ON interior_likes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interior_likes_count();
CREATE TRIGGER interior_likes_del AFTER DELETE ON interior_likes REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interior_likes_count();

CREATE FUNCTION interior_views_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE interiors i SET views_count = i.views_count + d.n
    FROM (SELECT interior_id, count(*) AS n FROM new_rows GROUP BY interior_id) d WHERE i.id = d.interior_id;
    RETURN NULL;
END $$;
CREATE TRIGGER interior_views_ins AFTER INSERT ON interior_views REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interior_views_count();

CREATE FUNCTION saved_interiors_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE interiors i SET saves_count = i.saves_count + d.n
        FROM (SELECT interior_id, count(*) AS n FROM new_rows GROUP BY interior_id) d WHERE i.id = d.interior_id;
    ELSE
        UPDATE interiors i SET saves_count = greatest(i.saves_count - d.n, 0)
        FROM (SELECT interior_id, count(*) AS n FROM old_rows GROUP BY interior_id) d WHERE i.id = d.interior_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER saved_interiors_ins AFTER INSERT ON saved_interiors REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION saved_interiors_count();
CREATE TRIGGER saved_interiors_del AFTER DELETE ON saved_interiors REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION saved_interiors_count();

CREATE FUNCTION saved_models_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE models m SET saves_count = m.saves_count + d.n
        FROM (SELECT model_id, count(*) AS n FROM new_rows GROUP BY model_id) d WHERE m.id = d.model_id;
    ELSE
        UPDATE models m SET saves_count = greatest(m.saves_count - d.n, 0)
        FROM (SELECT model_id, count(*) AS n FROM old_rows GROUP BY model_id) d WHERE m.id = d.model_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER saved_models_ins AFTER INSERT ON saved_models REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION saved_models_count();
CREATE TRIGGER saved_models_del AFTER DELETE ON saved_models REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION saved_models_count();

CREATE FUNCTION comment_likes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE comments c SET likes_count = c.likes_count + d.n
        FROM (SELECT comment_id, count(*) AS n FROM new_rows GROUP BY comment_id) d WHERE c.id = d.comment_id;
    ELSE
        UPDATE comments c SET likes_count = greatest(c.likes_count - d.n, 0)
        FROM (SELECT comment_id, count(*) AS n FROM old_rows GROUP BY comment_id) d WHERE c.id = d.comment_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER comment_likes_ins AFTER INSERT ON comment_likes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION comment_likes_count();
CREATE TRIGGER comment_likes_del AFTER DELETE ON comment_likes REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION comment_likes_count();

CREATE FUNCTION interior_comments_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE interiors i SET comments_count = i.comments_count + d.n
        FROM (SELECT interior_id, count(*) AS n FROM new_rows WHERE interior_id IS NOT NULL GROUP BY interior_id) d
        WHERE i.id = d.interior_id;
    ELSE
        UPDATE interiors i SET comments_count = greatest(i.comments_count - d.n, 0)
        FROM (SELECT interior_id, count(*) AS n FROM old_rows WHERE interior_id IS NOT NULL GROUP BY interior_id) d
        WHERE i.id = d.interior_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER comments_ins AFTER INSERT ON comments REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interior_comments_count();
CREATE TRIGGER comments_del AFTER DELETE ON comments REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interior_comments_count();

CREATE FUNCTION project_models_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE projects p SET models_count = p.models_count + d.n, updated_at = now()
        FROM (SELECT project_id, count(*) AS n FROM new_rows GROUP BY project_id) d WHERE p.id = d.project_id;
    ELSE
        UPDATE projects p SET models_count = greatest(p.models_count - d.n, 0), updated_at = now()
        FROM (SELECT project_id, count(*) AS n FROM old_rows GROUP BY project_id) d WHERE p.id = d.project_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER project_models_ins AFTER INSERT ON project_models REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_models_count();
CREATE TRIGGER project_models_del AFTER DELETE ON project_models REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_models_count();

-- Author counters: designs_count = approved live interiors; tags_count = pins on them. Recomputed
-- for the authors a statement touched. A profile being deleted is skipped (its own BEFORE DELETE
-- trigger soft-deletes its interiors; updating the row being deleted would abort the delete).
CREATE FUNCTION refresh_author_counts(authors uuid[]) RETURNS void LANGUAGE sql AS $$
    UPDATE profiles p SET
        designs_count = (SELECT count(*) FROM interiors i
                         WHERE i.author_id = p.id AND i.status = 1 AND NOT i.is_deleted),
        tags_count = (SELECT count(*) FROM interior_tags t JOIN interiors i ON i.id = t.interior_id
                      WHERE i.author_id = p.id AND i.status = 1 AND NOT i.is_deleted)
    WHERE p.id = ANY (authors)
      AND p.id::text <> coalesce(current_setting('tridmo.deleting_profile', true), '');
$$;

CREATE FUNCTION interiors_author_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT author_id) INTO touched FROM new_rows WHERE author_id IS NOT NULL AND status = 1;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT author_id) INTO touched FROM old_rows WHERE author_id IS NOT NULL;
    ELSE
        SELECT array_agg(DISTINCT a) INTO touched FROM (
            SELECT o.author_id AS a FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.status, o.is_deleted, o.author_id) IS DISTINCT FROM (n.status, n.is_deleted, n.author_id)
            UNION
            SELECT n.author_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.status, o.is_deleted, o.author_id) IS DISTINCT FROM (n.status, n.is_deleted, n.author_id)
        ) s WHERE a IS NOT NULL;
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM refresh_author_counts(touched);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER interiors_counts_ins AFTER INSERT ON interiors REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interiors_author_counts();
CREATE TRIGGER interiors_counts_upd AFTER UPDATE ON interiors REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interiors_author_counts();
CREATE TRIGGER interiors_counts_del AFTER DELETE ON interiors REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interiors_author_counts();

CREATE FUNCTION interior_tags_author_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT i.author_id) INTO touched
        FROM (SELECT DISTINCT interior_id FROM new_rows) t JOIN interiors i ON i.id = t.interior_id
        WHERE i.author_id IS NOT NULL AND i.status = 1;
    ELSE
        SELECT array_agg(DISTINCT i.author_id) INTO touched
        FROM (SELECT DISTINCT interior_id FROM old_rows) t JOIN interiors i ON i.id = t.interior_id
        WHERE i.author_id IS NOT NULL;
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM refresh_author_counts(touched);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER interior_tags_counts_ins AFTER INSERT ON interior_tags REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interior_tags_author_counts();
CREATE TRIGGER interior_tags_counts_del AFTER DELETE ON interior_tags REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION interior_tags_author_counts();

-- Account deletion: the author's interiors are soft-deleted (the FK then sets author_id NULL).
CREATE FUNCTION profiles_soft_delete_interiors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('tridmo.deleting_profile', OLD.id::text, true);
    UPDATE interiors SET is_deleted = true, deleted_at = now(), updated_at = now()
    WHERE author_id = OLD.id AND NOT is_deleted;
    PERFORM set_config('tridmo.deleting_profile', '', true);
    RETURN OLD;
END $$;
CREATE TRIGGER profiles_soft_delete_interiors BEFORE DELETE ON profiles
    FOR EACH ROW EXECUTE FUNCTION profiles_soft_delete_interiors();
