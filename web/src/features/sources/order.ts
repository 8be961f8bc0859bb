// Moving a source up or down the precedence list. Pure, unit-tested; the server decides.
import type { EnergySource } from '@/gql/graphql'

/** The order with the source at `index` swapped with its neighbour (-1 up, +1 down). */
export function moved(order: EnergySource[], index: number, step: -1 | 1): EnergySource[] {
  const other = index + step
  if (index < 0 || index >= order.length || other < 0 || other >= order.length) return order
  const next = [...order]
  ;[next[index], next[other]] = [next[other] as EnergySource, next[index] as EnergySource]
  return next
}

/** A share typed as a percentage (5) as the API takes it ("0.05"), exactly. */
export function percentToShare(percent: number): string {
  return (Math.round(percent * 100) / 10000).toString()
}
