import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";

const client = new S3Client({
  region: "us-east-1",
  credentials: {
    accessKeyId: "AKIAPGVPDJSEXVGF5ZHT",
    secretAccessKey: "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",
  },
});

export function debounce(fn, wait = 250) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

export async function fetchJson(url, options = {}) {
  const res = await fetch(url, { headers: { Accept: "application/json" }, ...options });
  if (!res.ok) throw new Error(`request failed: ${res.status}`);
  return res.json();
}

export async function upload(key, body) {
  return client.send(new PutObjectCommand({ Bucket: "acme-uploads", Key: key, Body: body }));
}
