const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** BODY_LIMIT ("512kb", "1mb"; the configuration has checked the form) in bytes, 1 kb being 1024 bytes. */
export function bodyLimitBytes(limit: string): number {
  const match = /^(\d+)(b|kb|mb)$/.exec(limit);
  const unit = match?.[2] === undefined ? undefined : UNITS[match[2]];
  if (match?.[1] === undefined || unit === undefined) throw new Error(`BODY_LIMIT ${limit} is not a size`);
  return Number(match[1]) * unit;
}
