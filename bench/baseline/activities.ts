/** The baseline's one activity: no rendering, no SMTP; it only tells the benchmark who was contacted and when. */
export interface BaselineActivities {
  contact(recipient: string): Promise<void>;
}

export function createBaselineActivities(report: (recipient: string, at: number) => void): BaselineActivities {
  return {
    contact(recipient) {
      report(recipient, Date.now());
      return Promise.resolve();
    },
  };
}
