/** The records system (MPB) as the activities see it. */
import type { RecordsQuery, RecordsStatus } from '../shared/activities';

export interface RecordsChecker {
  /**
   * Which of the three records exist for the cancelled session. Throws while the records system
   * cannot give a trustworthy answer: "unknown" is never read as "documented".
   */
  check(query: RecordsQuery): Promise<RecordsStatus>;
}
