-- A post's comments are read a page at a time, newest first (the cursor is
-- the last comment's `created_at` and `id`, as for the post list).
CREATE INDEX comments_newest_first ON comments (post_id, created_at DESC, id DESC);
DROP INDEX comments_by_post;
