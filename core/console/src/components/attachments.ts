import { ApiError, csrfToken } from '../api';
import type { Attachment } from '../types';

/** A stored upload as `POST /conversations/:id/attachments` returns it. */
export interface UploadedAttachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  url: string;
}

/**
 * Uploads one file as multipart/form-data with progress (XMLHttpRequest: fetch reports no upload
 * progress). Same-origin with the session cookie and the CSRF header, like every API call.
 */
export function uploadAttachment(conversationId: string, file: File, onProgress: (percent: number) => void): Promise<UploadedAttachment> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/conversations/${encodeURIComponent(conversationId)}/attachments`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('accept', 'application/json');
    const token = csrfToken();
    if (token) xhr.setRequestHeader('x-csrf-token', token);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(Math.min(99, Math.round((event.loaded / event.total) * 100)));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'The upload failed (network).'));
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) {
        onProgress(100);
        resolve(body as UploadedAttachment);
        return;
      }
      const error = (body as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
      reject(new ApiError(xhr.status, error?.code ?? `http_${xhr.status}`, error?.message ?? xhr.statusText, error?.details));
    };
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** The authenticated download path of a stored attachment (served as `Content-Disposition: attachment`). */
export function attachmentHref(attachment: Attachment): string | null {
  return attachment.id && /^[A-Za-z0-9-]{1,36}$/.test(attachment.id) ? `/api/v1/attachments/${attachment.id}/content` : null;
}

export function formatBytes(size: number): string {
  if (!Number.isFinite(size) || size < 0) return '';
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(size < 10 * 1024 ? 1 : 0)} KB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
}
