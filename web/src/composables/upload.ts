// POST a file to one of the API's CSV routes with upload progress (fetch cannot report it).
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
    request.setRequestHeader('Content-Type', 'text/csv; charset=utf-8')
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
