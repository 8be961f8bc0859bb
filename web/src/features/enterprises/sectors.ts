import type { Sector } from '@/gql/graphql'

// In the order of schema.graphql's Sector enum (the codes; their names are in the messages).
export const SECTORS: Sector[] = ['POWER', 'STEEL', 'CEMENT', 'ALUMINIUM', 'PETROCHEMICAL', 'CHEMICAL', 'PAPER', 'AVIATION']
