-- Machines `search` (a case-insensitive substring of name or location) through an FTS5 trigram index:
-- external content (only the trigrams are stored; rows are read from `machines`), kept in sync by
-- triggers inside the writing statement's transaction. The UPDATE trigger fires only for name and
-- location, so status changes (every command) never touch it. `trigram` folds case (Unicode, one
-- character to one) and keeps diacritics, so it finds a superset of today's `instr(lower(…))` and
-- the query keeps that exact test on the rows it finds (src/db/dialect/sql.ts substringIndexMatch).
CREATE VIRTUAL TABLE `machines_fts` USING fts5(name, location, content='machines', content_rowid='id', tokenize='trigram');
--> statement-breakpoint
CREATE TRIGGER `machines_fts_ai` AFTER INSERT ON `machines` BEGIN
  INSERT INTO machines_fts(rowid, name, location) VALUES (new.id, new.name, new.location);
END;
--> statement-breakpoint
CREATE TRIGGER `machines_fts_ad` AFTER DELETE ON `machines` BEGIN
  INSERT INTO machines_fts(machines_fts, rowid, name, location) VALUES ('delete', old.id, old.name, old.location);
END;
--> statement-breakpoint
CREATE TRIGGER `machines_fts_au` AFTER UPDATE OF name, location ON `machines` BEGIN
  INSERT INTO machines_fts(machines_fts, rowid, name, location) VALUES ('delete', old.id, old.name, old.location);
  INSERT INTO machines_fts(rowid, name, location) VALUES (new.id, new.name, new.location);
END;
--> statement-breakpoint
INSERT INTO `machines_fts`(`machines_fts`) VALUES ('rebuild');
--> statement-breakpoint
-- An FTS5 query seeks every segment of the index, and the catalog search's walk plan probes the index
-- once per row: merge each index into one segment (a bulk load leaves a dozen). Later writes add
-- small segments that FTS5's automerge keeps few; `npm run seed` does the same after a bulk import.
INSERT INTO `machines_fts`(`machines_fts`) VALUES ('optimize');
--> statement-breakpoint
INSERT INTO `exams_fts`(`exams_fts`) VALUES ('optimize');
--> statement-breakpoint
INSERT INTO `courses_fts`(`courses_fts`) VALUES ('optimize');
