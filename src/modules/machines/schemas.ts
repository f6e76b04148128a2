import { z } from '@hono/zod-openapi';
import { MACHINE_COMMANDS, MACHINE_STATUSES, OPERATION_RESULTS } from '../../db/schema';
import { IdParam, positiveId } from '../../lib/openapi';
import { CursorQuery, pageSchema } from '../../lib/pagination';

const status = z.enum(MACHINE_STATUSES).openapi({ example: 'POWEROFF' });
const command = z.enum(MACHINE_COMMANDS).openapi({ example: 'POWER_ON' });
const result = z.enum(OPERATION_RESULTS).openapi({ example: 'SUCCESS' });
const iso = z.string().openapi({ example: '2026-11-22T03:00:00.000Z' });

export const MachineSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    location: z.string(),
    status,
    owner_id: z.number().int(),
    controller_url: z.string().nullable(),
    created_at: iso,
    updated_at: iso,
  })
  .openapi('Machine');

const controllerSecret = z.string().openapi({
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  description:
    'The controller secret (`whsec_…`) that signs every command sent to `controller_url` (Standard Webhooks: ' +
    '`webhook-id`, `webhook-timestamp`, `webhook-signature`; docs/machines.md). Answered only here, once: store it ' +
    'on the device now. `POST /api/machines/{id}/controller-secret` makes a new one.',
});

export const MachineWithSecretSchema = MachineSchema.extend({ controller_secret: controllerSecret.optional() }).openapi('MachineWithSecret');

export const ControllerSecretSchema = z
  .object({
    controller_secret: controllerSecret,
    previous_valid_until: iso.nullable().openapi({
      description: 'Until then commands carry a signature with the previous secret too (24 h); null when there was none.',
    }),
  })
  .openapi('ControllerSecret');

export const OperationSchema = z
  .object({
    id: z.number().int(),
    machine_id: z.number().int(),
    machine_owner_id: z.number().int().openapi({ description: 'The machine’s current owner.' }),
    worker_id: z.number().int().nullable().openapi({ description: 'The user who issued the command.' }),
    command,
    result,
    request_datetime: iso,
    completed_at: iso.nullable(),
    detail: z.string().nullable().openapi({ description: 'Why a command failed (or was cancelled), in English.' }),
  })
  .openapi('MachineOperation');

const name = z.string().trim().min(1).max(64).openapi({ example: 'Press 7' });
const location = z.string().trim().min(1).max(256).openapi({ example: 'Hall B, line 2' });
const controllerUrl = z
  .string()
  .trim()
  .max(2048)
  .nullable()
  .openapi({
    example: 'https://gateway.example.com/devices/7',
    description:
      'Device gateway that executes commands. `https://` only, and never a private, loopback or link-local host ' +
      '(checked on write and again before every send). `null` or absent: the built-in simulator drives the machine.',
  });
const ownerId = positiveId().openapi({ description: 'Staff only: transfers the machine. Ignored when the caller is not staff.' });

export const CreateMachineBody = z
  .object({ name, location, status: status.optional(), controller_url: controllerUrl.optional(), owner_id: ownerId.optional() })
  .openapi('CreateMachineRequest');

export const PutMachineBody = z
  .object({ name, location, status, controller_url: controllerUrl.optional(), owner_id: ownerId.optional() })
  .openapi('PutMachineRequest', {
    description: 'A full replacement: `name`, `location` and `status` are required; an absent `controller_url` clears it.',
  });

export const PatchMachineBody = z
  .object({
    name: name.optional(),
    location: location.optional(),
    status: status.optional(),
    controller_url: controllerUrl.optional(),
    owner_id: ownerId.optional(),
  })
  .openapi('PatchMachineRequest');

export const CommandBody = z.object({ command }).openapi('MachineCommandRequest');

export const MachineListQuery = CursorQuery.extend({
  status: status.optional(),
  owner: z
    .union([z.literal('me'), positiveId()])
    .optional()
    .openapi({ description: '`me` for the caller’s machines, or an owner id.', example: 'me' }),
  search: z
    .string()
    .trim()
    .max(100)
    .optional()
    .openapi({
      description:
        'Case-insensitive substring of the name or the location (empty: no filter; case folds for ASCII letters on D1, for every letter on Postgres). ' +
        'Without `owner`, a search of 3 characters or more is looked up in a trigram index; with `owner` the owner’s ' +
        'machines are scanned (fewer rows). A search of 1 or 2 characters has no trigram and scans the machines the ' +
        'other filters (`owner`, `status`) select, newest first, so combine it with them.',
    }),
});

export const HistoryQuery = CursorQuery.extend({ result: result.optional(), command: command.optional() });
export const AllHistoryQuery = HistoryQuery.extend({
  machine_id: positiveId().optional(),
});

export const OperationParams = IdParam.extend({
  operation_id: positiveId().openapi({ param: { name: 'operation_id', in: 'path' }, example: 1 }),
});

export const MachinePageSchema = pageSchema(MachineSchema, 'MachinePage');
export const OperationPageSchema = pageSchema(OperationSchema, 'MachineOperationPage');

export type CreateMachineInput = z.infer<typeof CreateMachineBody>;
export type PatchMachineInput = z.infer<typeof PatchMachineBody>;
export type MachineListInput = z.infer<typeof MachineListQuery>;
export type HistoryInput = z.infer<typeof AllHistoryQuery>;
