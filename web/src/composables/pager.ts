// Keyset paging over a connection: the API gives `endCursor` for the next page; the console
// remembers the cursors it came through so "previous" needs no offset.
import { computed, ref } from 'vue'

export function useCursorPager() {
  const cursors = ref<Array<string | null>>([null])
  const after = computed(() => cursors.value[cursors.value.length - 1] ?? null)
  const page = computed(() => cursors.value.length)
  return {
    after,
    page,
    hasPrevious: computed(() => cursors.value.length > 1),
    next(endCursor: string | null | undefined) {
      if (endCursor) cursors.value = [...cursors.value, endCursor]
    },
    previous() {
      if (cursors.value.length > 1) cursors.value = cursors.value.slice(0, -1)
    },
    reset() {
      cursors.value = [null]
    },
  }
}
