"""The Spark job: the session, shipping the plan to executors, the emitters, derived tables and writers."""
