/** The EC2 instance id (IMDSv2), or null when not on EC2; short timeouts keep start-up fast elsewhere. */
const IMDS = "http://169.254.169.254/latest";

export async function ec2InstanceId(timeoutMs = 1000): Promise<string | null> {
  try {
    const token = await fetch(`${IMDS}/api/token`, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!token.ok) return null;
    const id = await fetch(`${IMDS}/meta-data/instance-id`, {
      headers: { "X-aws-ec2-metadata-token": await token.text() },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!id.ok) return null;
    const text = (await id.text()).trim();
    return /^i-[0-9a-f]+$/.test(text) ? text : null;
  } catch {
    return null;
  }
}
