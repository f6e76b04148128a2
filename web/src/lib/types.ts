// The shapes the console reads from the API (see /openapi.json; only the fields the console uses).
// The enums and the live feed's frames come from src/contract.ts, which the worker uses too; the
// shapes below are checked against the API's routes by tests/web-contract.ts (docs/console.md
// "The contract with the API").
import type {
  Checkout,
  LiveEvent,
  LiveOperation,
  MachineCommand,
  MachineStatus,
  OrderStatus,
  PaymentMethod,
  PaymentStatus,
  RegistrationStatus,
} from '../../../src/contract';

export { MACHINE_STATUSES, ORDER_STATUSES, WEBHOOK_EVENT_TYPES } from '../../../src/contract';
export type { Checkout } from '../../../src/contract';
export type { LiveEvent, MachineStatus, OrderStatus, PaymentMethod };
export type Command = MachineCommand;

/** All of T's members in the order the console shows them: one missing is a type error. */
const inOrder =
  <T extends string>() =>
  <const A extends readonly T[]>(all: A & ([T] extends [A[number]] ? unknown : never)): A =>
    all;

export interface User {
  id: number;
  email: string | null;
  username: string | null;
  name: string | null;
  phone: string | null;
  is_staff: boolean;
  is_superuser: boolean;
  invite_referral_code: string;
}

export interface TokenPair {
  access: string;
  refresh: string;
  expires_in: number;
}

export interface LoginResult {
  user: User;
  token: TokenPair;
}

export interface Page<T> {
  count?: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export type Kind = 'exams' | 'courses';

export interface Item {
  id: number;
  title: string;
  description: string;
  price: number;
  currency: string;
  start_at: string;
  end_at: string;
  registration_count: number;
  is_registered: boolean;
}

/** The payment methods as the console offers them: card (the default) first. */
export const PAYMENT_METHODS = inOrder<PaymentMethod>()(['card', 'kakaopay', 'bank_transfer']);

export interface Payment {
  id: number;
  payment_type: 'exam' | 'course';
  target_id: number;
  target_title: string;
  amount: number;
  currency: string;
  payment_method: PaymentMethod;
  status: PaymentStatus;
  /** Null while pending, and for expired or failed payments. */
  paid_at: string | null;
  cancelled_at: string | null;
  refund_reason: string | null;
  registration_status: RegistrationStatus;
  expires_at?: string | null;
  /** What the provider's browser SDK needs to pay a pending payment (real providers only). */
  checkout?: Checkout | null;
}

export interface Profile {
  invite_referral_code: string;
  used_referral_code: string | null;
  referred_count: number;
}

export interface ReferredUser {
  id: number;
  phone: string | null;
  email: string | null;
  username: string | null;
  referred_at: string;
}

export interface PhoneLoginResult {
  phone: string;
  verification_token: string;
  expires_in: number;
  dev_code?: string;
}

export interface SalesBucket {
  datetime: string;
  total_amount: number;
  customer_count: number;
  coupon_amount: number;
  first_purchase_count: number;
  first_purchase_amount: number;
}

export interface ProductSales {
  product_id: number;
  product_name: string;
  total_amount: number;
  quantity: number;
}

export interface Product {
  id: number;
  name: string;
  price: number;
  currency: string;
}

export interface Order {
  id: number;
  customer_id: number;
  status: OrderStatus;
  item_price: number;
  discount_price: number;
  delivery_price: number;
  total_price: number;
  is_first_purchase: boolean;
  payment_method: string | null;
  paid_at: string | null;
  currency: string;
  items: { product_id: number; product_name: string; unit_price: number; quantity: number }[];
  created_at: string;
}

/** GET /api/orders: paged by cursor only (no count, no previous). */
export interface OrderPage {
  next: string | null;
  next_cursor: string | null;
  results: Order[];
}

/** The commands as the machine page's buttons show them: a machine's life from power on to off. */
export const COMMANDS = inOrder<Command>()(['POWER_ON', 'START', 'PAUSE', 'STOP', 'POWER_OFF', 'RESET']);

export interface Machine {
  id: number;
  name: string;
  location: string;
  status: MachineStatus;
  owner_id: number;
  controller_url: string | null;
  updated_at: string;
}

export type Operation = LiveOperation;

export interface WebhookEndpoint {
  id: number;
  owner_id: number;
  url: string;
  description: string | null;
  events: string[];
  disabled: boolean;
  disabled_reason: string | null;
  created_at: string;
}

export interface WebhookDelivery {
  id: number;
  event_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}
