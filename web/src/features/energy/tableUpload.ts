// The state of an import screen, shared by the energy upload and the enterprise register.
import { type Ref, ref } from 'vue'

import { refetchVisible } from '@/composables/live'
import { session } from '@/composables/session'
import { uploadFile } from '@/composables/upload'

import { isRefusal } from './importReport'

// One import screen's state: the chosen file, `partial`, progress, the report and the codes of a
// refusal. `send` posts the file to `route`; `isReport` recognises the route's report.
export function useTableUpload<R>(route: string, isReport: (body: unknown) => body is R) {
  const file = ref<File | null>(null)
  const partial = ref(false)
  const progress = ref<number | null>(null)
  const report = ref<R | null>(null) as Ref<R | null>
  const codes = ref<string[]>([])

  async function send(): Promise<void> {
    if (!file.value) {
      codes.value = ['DOCUMENT_REQUIRED']
      return
    }
    codes.value = []
    report.value = null
    progress.value = 0
    try {
      const outcome = await uploadFile(
        `${route}${partial.value ? '?partial=true' : ''}`,
        file.value,
        session?.token ?? null,
        (fraction) => (progress.value = Math.round(fraction * 100)),
      )
      if (isReport(outcome.body)) {
        report.value = outcome.body
        refetchVisible()
      } else if (isRefusal(outcome.body)) {
        codes.value = [outcome.body.code]
      } else {
        codes.value = ['UNEXPECTED']
      }
    } catch {
      codes.value = ['NETWORK']
    }
  }

  return { file, partial, progress, report, codes, send }
}
