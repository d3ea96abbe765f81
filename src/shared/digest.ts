/** The lowercase hex SHA-256 of bytes (a text's UTF-8): what sync compares. Web Crypto, so it runs in both runtimes. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", typeof data === "string" ? new TextEncoder().encode(data) : data);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
