-- Full-text search over title and description of exams and courses (FTS5, external content: the
-- index stores only tokens; rows are read from the item table). unicode61 folds case and diacritics.
-- Triggers keep it in sync inside the writing statement's transaction; the UPDATE trigger fires only
-- for title/description, so registration_count changes (every apply/cancel) never touch the index.
CREATE VIRTUAL TABLE `exams_fts` USING fts5(title, description, content='exams', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `exams_fts_ai` AFTER INSERT ON `exams` BEGIN
  INSERT INTO exams_fts(rowid, title, description) VALUES (new.id, new.title, new.description);
END;
--> statement-breakpoint
CREATE TRIGGER `exams_fts_ad` AFTER DELETE ON `exams` BEGIN
  INSERT INTO exams_fts(exams_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
END;
--> statement-breakpoint
CREATE TRIGGER `exams_fts_au` AFTER UPDATE OF title, description ON `exams` BEGIN
  INSERT INTO exams_fts(exams_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
  INSERT INTO exams_fts(rowid, title, description) VALUES (new.id, new.title, new.description);
END;
--> statement-breakpoint
CREATE VIRTUAL TABLE `courses_fts` USING fts5(title, description, content='courses', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `courses_fts_ai` AFTER INSERT ON `courses` BEGIN
  INSERT INTO courses_fts(rowid, title, description) VALUES (new.id, new.title, new.description);
END;
--> statement-breakpoint
CREATE TRIGGER `courses_fts_ad` AFTER DELETE ON `courses` BEGIN
  INSERT INTO courses_fts(courses_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
END;
--> statement-breakpoint
CREATE TRIGGER `courses_fts_au` AFTER UPDATE OF title, description ON `courses` BEGIN
  INSERT INTO courses_fts(courses_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
  INSERT INTO courses_fts(rowid, title, description) VALUES (new.id, new.title, new.description);
END;
--> statement-breakpoint
INSERT INTO `catalog_stats` (`kind`, `total`, `version`, `available_count`, `available_until`) VALUES ('exams', 0, 0, 0, 0), ('courses', 0, 0, 0, 0);
