// The error codes this module answers with (the app's code table is src/errors.ts).
import type { CodeInfo } from '../../lib/codes';

export const MACHINES_CODES = {
  INVALID_STATE_TRANSITION: {
    status: 409,
    title: 'Invalid state transition',
    en: 'The command cannot be applied to the machine in the state it will have after its queued commands.',
    ko: '현재 기계 상태에서는 이 명령을 실행할 수 없습니다.',
    ru: 'Команду нельзя применить к станку в состоянии, которое он будет иметь после команд в очереди.',
  },
  MACHINE_BUSY: {
    status: 409,
    title: 'Machine busy',
    en: 'The machine has a command in progress; its status cannot be changed until the command completes.',
    ko: '기계가 명령을 처리 중이므로 상태를 변경할 수 없습니다.',
    ru: 'Станок выполняет команду; его статус нельзя изменить до её завершения.',
  },
  LIVE_SOCKET_LIMIT: {
    status: 409,
    title: 'Too many live sockets',
    en: 'You already have the most live sockets allowed on this machine open; close one before opening another.',
    ko: '이 기계에 열 수 있는 실시간 소켓 수를 모두 사용 중입니다. 다른 소켓을 닫은 후 다시 시도하세요.',
    ru: 'У вас уже открыто максимальное число live-сокетов для этого станка; закройте один, прежде чем открывать новый.',
  },
  UPGRADE_REQUIRED: {
    status: 426,
    title: 'Upgrade required',
    en: 'This endpoint speaks WebSocket only; send an Upgrade: websocket request.',
    ko: '이 엔드포인트는 WebSocket 전용입니다. Upgrade: websocket 요청을 보내주세요.',
    ru: 'Этот адрес работает только по WebSocket; отправьте запрос с Upgrade: websocket.',
  },
} as const satisfies Record<string, CodeInfo>;
