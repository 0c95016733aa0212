"""What every domain rests on: access, audit, notifications, the job queue, kept data, uploads."""
