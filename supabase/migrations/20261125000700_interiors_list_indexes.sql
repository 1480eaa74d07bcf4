-- Interiors lists for signed-in users and admins, index-ordered for every orderBy.
--
-- The list runs its visibility rule as disjoint branches merged with UNION ALL (see
-- shared/community/interior_lists.py), so PostgreSQL merges index scans instead of sorting the table:
--   public:    status = 1 AND NOT is_deleted                      -> interiors_public_* (20261125000500)
--   signed-in: public + the caller's own status <> 1 rows          -> interiors_own_* below
--   admin:     one branch per status (0, 1, 2), all NOT is_deleted -> interiors_status_* below
--              (created_at is served by interiors_status_created from 20261125000500)
-- The own_* indexes hold only pending and rejected rows, so they stay small.

CREATE INDEX interiors_own_created ON interiors (author_id, created_at DESC, id DESC)
    WHERE NOT is_deleted AND status <> 1;
CREATE INDEX interiors_own_views ON interiors (author_id, views_count DESC, id DESC)
    WHERE NOT is_deleted AND status <> 1;
CREATE INDEX interiors_own_likes ON interiors (author_id, likes_count DESC, id DESC)
    WHERE NOT is_deleted AND status <> 1;
CREATE INDEX interiors_own_saves ON interiors (author_id, saves_count DESC, id DESC)
    WHERE NOT is_deleted AND status <> 1;

CREATE INDEX interiors_status_views ON interiors (status, views_count DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX interiors_status_likes ON interiors (status, likes_count DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX interiors_status_saves ON interiors (status, saves_count DESC, id DESC) WHERE NOT is_deleted;
