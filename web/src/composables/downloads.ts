// Downloads by click. The server issues a short-lived signed link (createDocumentLink,
// createStatisticsExportLink); the browser then fetches the file itself, so a large export
// streams to disk instead of being held in memory, and no long-lived token is put in a URL.
import { useMutation } from '@urql/vue'

import { DocumentLinkDocument, type ErrorCode } from '@/gql/graphql'

export interface LinkResult {
  url: string | null
  errors: Array<{ code: ErrorCode }>
}

/** Open a link in a new tab (a PDF shows in the browser's viewer). */
export function openInNewTab(url: string): void {
  window.open(url, '_blank', 'noopener')
}

/** Save a link's file (the server names it in Content-Disposition). */
export function saveLink(url: string): void {
  const anchor = document.createElement('a')
  anchor.href = url
  anchor.download = ''
  document.body.appendChild(anchor)
  anchor.click()
  anchor.remove()
}

export function useDocumentLink() {
  const { executeMutation, fetching } = useMutation(DocumentLinkDocument)
  return {
    fetching,
    /** The signed link of a document, or the codes of why there is none. */
    async link(documentId: string): Promise<LinkResult> {
      const result = await executeMutation({ id: documentId })
      const payload = result.data?.createDocumentLink
      return { url: payload?.url ?? null, errors: payload?.errors ?? [] }
    },
  }
}
