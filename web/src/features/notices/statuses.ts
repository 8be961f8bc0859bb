import type { NoticeStatus } from '@/gql/graphql'

// In the order of schema.graphql's NoticeStatus enum, which is the order of the cycle.
export const NOTICE_STATUSES: NoticeStatus[] = ['ISSUED', 'ACKNOWLEDGED', 'UNDER_REVIEW', 'REJECTED', 'FULFILLED', 'OVERDUE']

// The acknowledgement windows of the patent's scenario, in hours: 48 h, 72 h and 10 days.
export const ACK_WINDOWS = [48, 72, 240] as const
