import { defineCodes } from '../../lib/problem';

defineCodes({
  INVALID_DATE_RANGE: {
    status: 400,
    title: 'Invalid date range',
    en: 'The start date cannot be later than the end date.',
    ko: '시작일이 종료일보다 늦을 수 없습니다.',
    ru: 'Дата начала не может быть позже даты окончания.',
  },
  RANGE_TOO_LARGE: {
    status: 400,
    title: 'Range too large',
    en: 'The date range is too large: at most 1,000 buckets per request.',
    ko: '조회 기간이 너무 깁니다. 한 번에 최대 1,000개 구간까지 조회할 수 있습니다.',
    ru: 'Слишком большой диапазон дат: не более 1000 интервалов за запрос.',
  },
  SALES_LIMIT_EXCEEDED: {
    status: 409,
    title: 'Sales figures limit exceeded',
    en: 'This order would take an hour of the dashboards or a product past the figures that stay exact; nothing was recorded.',
    ko: '이 주문을 반영하면 대시보드의 시간대 합계 또는 상품 누적 금액이 정확히 표현할 수 있는 범위를 넘습니다. 저장되지 않았습니다.',
    ru: 'Заказ вывел бы час на дашборде или товар за пределы точно представимых сумм; ничего не сохранено.',
  },
  INVALID_STATUS_TRANSITION: {
    status: 400,
    title: 'Invalid status transition',
    en: 'The order cannot move from its current status to the requested one.',
    ko: '현재 주문 상태에서 요청한 상태로 변경할 수 없습니다.',
    ru: 'Заказ нельзя перевести из текущего статуса в запрошенный.',
  },
});
