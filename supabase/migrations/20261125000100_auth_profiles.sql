-- Auth foundation: application roles, profiles, bans, and the built-in auth provider's tables.
-- profiles.id is the auth user's id (built-in users, or Supabase's auth.users in Supabase mode).

CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE roles (
    id smallint PRIMARY KEY,
    name text NOT NULL UNIQUE
);
INSERT INTO roles (id, name) VALUES (1, 'admin'), (2, 'brand'), (3, 'designer');

CREATE TABLE profiles (
    id uuid PRIMARY KEY,
    username citext NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.-]{3,60}$'),
    email citext NOT NULL UNIQUE,
    full_name text NOT NULL CHECK (char_length(full_name) BETWEEN 1 AND 100),
    company_name text CHECK (char_length(company_name) <= 200),
    address text CHECK (char_length(address) <= 300),
    telegram text CHECK (char_length(telegram) <= 100),
    instagram text CHECK (char_length(instagram) <= 100),
    linkedin text CHECK (char_length(linkedin) <= 200),
    phone text CHECK (char_length(phone) <= 40),
    portfolio_link text CHECK (char_length(portfolio_link) <= 300),
    image_src text,
    role_id smallint NOT NULL DEFAULT 3 REFERENCES roles (id),
    brand_id uuid, -- set for brand accounts; the catalogue migration adds the foreign key
    is_verified boolean NOT NULL DEFAULT false,
    -- Denormalised counters, kept by the groups that own interiors, tags and downloads.
    designs_count integer NOT NULL DEFAULT 0 CHECK (designs_count >= 0),
    tags_count integer NOT NULL DEFAULT 0 CHECK (tags_count >= 0),
    downloads_count integer NOT NULL DEFAULT 0 CHECK (downloads_count >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profiles_role_created ON profiles (role_id, created_at DESC, id DESC);
CREATE INDEX profiles_full_name_trgm ON profiles USING gin (full_name gin_trgm_ops);

CREATE TABLE bans (
    id bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    reason text CHECK (char_length(reason) <= 1000),
    permanent boolean NOT NULL DEFAULT false,
    until timestamptz,
    created_by uuid REFERENCES profiles (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    lifted_at timestamptz,
    lifted_by uuid REFERENCES profiles (id) ON DELETE SET NULL,
    CHECK (permanent OR until IS NOT NULL)
);
CREATE INDEX bans_active_by_user ON bans (user_id) WHERE lifted_at IS NULL;

-- The built-in provider (embedded default). Unused, and harmless, on Supabase.
CREATE SCHEMA IF NOT EXISTS builtin_auth;

CREATE TABLE builtin_auth.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email citext NOT NULL UNIQUE,
    password_hash text NOT NULL,
    email_confirmed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE builtin_auth.sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES builtin_auth.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    revoked_reason text
);
CREATE INDEX sessions_by_user ON builtin_auth.sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are stored as SHA-256 digests; a rotated token keeps its row (rotated_at set)
-- so that presenting it again is recognised as reuse and revokes the whole session.
CREATE TABLE builtin_auth.refresh_tokens (
    id bigserial PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES builtin_auth.sessions (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz
);
CREATE INDEX refresh_tokens_by_session ON builtin_auth.refresh_tokens (session_id);

CREATE TABLE builtin_auth.one_time_tokens (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES builtin_auth.users (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('confirmation', 'recovery')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX one_time_tokens_by_user ON builtin_auth.one_time_tokens (user_id, kind);

-- The built-in provider has no mail server: messages it would send are kept here, where local
-- developers (and tests) read confirmation and recovery links.
CREATE TABLE builtin_auth.outbox (
    id bigserial PRIMARY KEY,
    email citext NOT NULL,
    kind text NOT NULL,
    token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
