// POST a file to one of the API's import routes with upload progress (fetch cannot report it).
// No charset is claimed: the browser cannot know a CSV file's encoding, and the server detects
// UTF-8 or GB18030 (and an .xlsx workbook by its bytes).
// What a file picker offers on the import screens: CSV and Excel workbooks. The server judges a
// file by its bytes, not by this.
export const TABLE_FILES = '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

export interface UploadOutcome {
  status: number
  body: unknown
}

export function uploadFile(
  url: string,
  file: File,
  token: string | null,
  onProgress: (fraction: number) => void,
): Promise<UploadOutcome> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest()
    request.open('POST', url)
    if (token) request.setRequestHeader('Authorization', `Bearer ${token}`)
    request.setRequestHeader('Content-Type', file.type || 'application/octet-stream')
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total)
    }
    request.onload = () => {
      let body: unknown = null
      try {
        body = JSON.parse(request.responseText)
      } catch {
        body = null
      }
      onProgress(1)
      resolve({ status: request.status, body })
    }
    request.onerror = () => reject(new Error('network'))
    request.send(file)
  })
}
