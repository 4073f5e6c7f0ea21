CREATE INDEX comments_by_post ON comments (post_id, id);
DROP INDEX comments_newest_first;
