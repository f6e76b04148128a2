// The shapes the console reads from the API (see /openapi.json; only the fields the console uses).

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

export const PAYMENT_METHODS = ['card', 'kakaopay', 'bank_transfer'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export interface Payment {
  id: number;
  payment_type: 'exam' | 'course';
  target_id: number;
  target_title: string;
  amount: number;
  currency: string;
  payment_method: PaymentMethod;
  status: 'paid' | 'cancelled';
  paid_at: string;
  cancelled_at: string | null;
  refund_reason: string | null;
  registration_status: 'applied' | 'enrolled' | 'completed' | 'cancelled';
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

export const ORDER_STATUSES = ['PENDING', 'PAID', 'SHIPPING', 'COMPLETED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

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
}

export const MACHINE_STATUSES = ['POWEROFF', 'READY', 'RUNNING', 'PAUSE', 'ERROR'] as const;
export type MachineStatus = (typeof MACHINE_STATUSES)[number];
export const COMMANDS = ['POWER_ON', 'START', 'PAUSE', 'STOP', 'POWER_OFF', 'RESET'] as const;
export type Command = (typeof COMMANDS)[number];

export interface Machine {
  id: number;
  name: string;
  location: string;
  status: MachineStatus;
  owner_id: number;
  controller_url: string | null;
  updated_at: string;
}

export interface Operation {
  id: number;
  machine_id: number;
  worker_id: number | null;
  command: Command;
  result: 'PENDING' | 'SUCCESS' | 'REMOTEFAILED' | 'INTERNALFAILED';
  request_datetime: string;
  completed_at: string | null;
  detail: string | null;
}

/** The JSON frames of GET /api/machines/{id}/live. */
export type LiveEvent =
  | {
      type: 'status';
      machine_id: number;
      status: MachineStatus;
      previous: MachineStatus | null;
      pending_operations?: { id: number; command: Command }[];
    }
  | { type: 'operation'; operation: Operation }
  | { type: 'deleted'; machine_id: number };
