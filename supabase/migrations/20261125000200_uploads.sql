-- Direct uploads (presigned PUT / multipart straight to storage) and the registry of columns that
-- reference stored objects, which the sweep reads to tell live objects from orphans.

CREATE TABLE uploads (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('model_archive', 'image')),
    bucket text NOT NULL CHECK (bucket IN ('images', 'files')),
    object_key text NOT NULL UNIQUE CHECK (char_length(object_key) <= 512),
    filename text NOT NULL CHECK (char_length(filename) BETWEEN 1 AND 255),
    declared_size bigint NOT NULL CHECK (declared_size > 0),
    content_type text NOT NULL CHECK (char_length(content_type) <= 255),
    multipart_id text,
    part_size bigint CHECK (part_size > 0),
    -- pending: URLs handed out; completed: object checked, waiting to be attached; attached: in use
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'attached')),
    size bigint CHECK (size >= 0),
    file_type text CHECK (char_length(file_type) <= 10),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    attached_at timestamptz
);
CREATE INDEX uploads_owner_created ON uploads (owner_id, created_at DESC);
CREATE INDEX uploads_unattached_expiry ON uploads (expires_at) WHERE status <> 'attached';

-- Which (table, column) pairs hold object keys. A migration that adds a column holding keys adds a
-- row here, or the sweep will treat those objects as orphans once they are older than the grace
-- period. match = 'key': the column holds the exact key; 'image': it holds an image's main key and
-- every derivative under the same `<folder>/<image_id>/` prefix is referenced too.
CREATE TABLE storage_references (
    table_name text NOT NULL,
    column_name text NOT NULL,
    bucket text NOT NULL CHECK (bucket IN ('images', 'files')),
    match text NOT NULL DEFAULT 'key' CHECK (match IN ('key', 'image')),
    PRIMARY KEY (table_name, column_name)
);
INSERT INTO storage_references (table_name, column_name, bucket, match) VALUES
    ('uploads', 'object_key', 'files', 'key'),
    ('profiles', 'image_src', 'images', 'image'),
    ('categories', 'image_src', 'images', 'image'),
    ('brands', 'logo', 'images', 'image'),
    ('models', 'file_key', 'files', 'key'),
    ('model_images', 'image_src', 'images', 'image'),
    ('interior_images', 'image_src', 'images', 'image');
