// The two catalog kinds. Everything kind-specific (table, action name, labels) lives here, so one
// generic module serves both; table names are constants from this map, never user input.
export type Kind = 'exams' | 'courses';

export interface KindConfig {
  kind: Kind;
  /** Singular type used in registrations and payments (`payment_type`). */
  type: 'exam' | 'course';
  table: Kind;
  fts: 'exams_fts' | 'courses_fts';
  /** The registration action in the URL: /api/exams/{id}/apply, /api/courses/{id}/enroll. */
  action: 'apply' | 'enroll';
  /** Registration status right after the action. */
  activeStatus: 'applied' | 'enrolled';
  /** OpenAPI component and prose labels. */
  label: 'Exam' | 'Course';
  noun: string;
}

// `as const`: each kind keeps its literal names, which give the routes literal path types.
export const KINDS = {
  exams: { kind: 'exams', type: 'exam', table: 'exams', fts: 'exams_fts', action: 'apply', activeStatus: 'applied', label: 'Exam', noun: 'exam' },
  courses: { kind: 'courses', type: 'course', table: 'courses', fts: 'courses_fts', action: 'enroll', activeStatus: 'enrolled', label: 'Course', noun: 'course' },
} as const satisfies Record<Kind, KindConfig>;

export const kindOfType = (type: 'exam' | 'course'): KindConfig => (type === 'exam' ? KINDS.exams : KINDS.courses);

/** Registration statuses that count as registered (registration_count, is_registered). */
export const ACTIVE_SQL = `('applied','enrolled','completed')`;
