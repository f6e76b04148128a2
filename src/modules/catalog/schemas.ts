import { z } from '@hono/zod-openapi';
import { CursorQuery, pageSchema } from '../../lib/pagination';
import type { KindConfig } from './kinds';

const instant = z.iso
  .datetime({ offset: true })
  .transform((s) => Date.parse(s))
  .openapi({ type: 'string', format: 'date-time', example: '2026-12-01T00:00:00.000Z' });

const fields = {
  title: z.string().trim().min(1).max(200).openapi({ example: 'TOEIC mock test' }),
  description: z.string().max(10_000).openapi({ example: 'A full-length practice test.' }),
  price: z.number().int().min(0).max(1_000_000_000_000).openapi({ example: 45000, description: 'Minor units of CURRENCY.' }),
  start_at: instant,
  end_at: instant,
};

const periodIssue = { code: 'custom' as const, path: ['end_at'], message: 'start_at must be before end_at' };

export const CreateItemBody = z.object({ ...fields, description: fields.description.default('') }).superRefine((v, ctx) => {
  if (v.start_at >= v.end_at) ctx.addIssue(periodIssue);
});

export const PatchItemBody = z
  .object({
    title: fields.title.optional(),
    description: fields.description.optional(),
    price: fields.price.optional(),
    start_at: fields.start_at.optional(),
    end_at: fields.end_at.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.start_at !== undefined && v.end_at !== undefined && v.start_at >= v.end_at) ctx.addIssue(periodIssue);
  });

export type CreateItemInput = z.output<typeof CreateItemBody>;
export type PatchItemInput = z.output<typeof PatchItemBody>;

export const ListQuery = CursorQuery.extend({
  status: z.enum(['available']).optional().openapi({ description: '`available`: now is within start_at..end_at.' }),
  search: z
    .string()
    .max(200)
    .optional()
    .openapi({
      description:
        'Full-text over title and description: all words match; `OR` between words matches either. ' +
        'At most 6 searched words, `OR` alternatives included (`OR` itself and tokens without a letter or digit do not ' +
        'count): each word is one more index list read for the page and its count, so more is a 400 `SEARCH_TOO_COMPLEX` ' +
        '(with `max_words`) before anything is read. ' +
        'A page costs about the same for common and rare words: for words that match many items the server walks the ' +
        'order (`sort`, `status`) and tests each item until the page is full; for rare words it lists the matches first. ' +
        'The choice is made from how common the words are (a count of matches up to 10,000 on D1, the planner’s estimate on ' +
        'Postgres) and never changes which items a page holds or their order.',
    }),
  sort: z
    .enum(['created', 'popular'])
    .default('created')
    .openapi({ description: '`created` (newest first) or `popular` (registration_count desc, then newest).' }),
});
export type ListQueryInput = z.output<typeof ListQuery>;

/** What a list's `count` is (service.countOf): exact, counted once per catalog version. */
const LIST_COUNT =
  'Exact number of items matching `status` and `search` (omitted when paging by cursor). Without `search` it is kept ' +
  'with the catalog; with `search` it is counted once per catalog version (any create, update or delete of an item ' +
  'starts a new one; with `status=available` also whenever an item opens or closes) and then reused, so only the ' +
  'first page of a new search after a change pays for counting every match.';

export function itemSchemas(k: KindConfig) {
  const item = z
    .object({
      id: z.number().int(),
      title: z.string(),
      description: z.string(),
      price: z.number().int(),
      currency: z.string().openapi({ example: 'KRW' }),
      start_at: z.string(),
      end_at: z.string(),
      created_at: z.string(),
      updated_at: z.string(),
      registration_count: z.number().int().openapi({ description: 'Active registrations (applied/enrolled or completed), exact.' }),
      is_registered: z.boolean().openapi({ description: 'The caller has an active registration.' }),
    })
    .openapi(k.label);
  const create = CreateItemBody.openapi(`${k.label}Create`);
  const patch = PatchItemBody.openapi(`${k.label}Update`);
  return { item, page: pageSchema(item, `${k.label}Page`, LIST_COUNT), create, patch };
}
