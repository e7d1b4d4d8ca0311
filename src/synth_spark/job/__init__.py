"""The Spark job: shipping the plan to executors, the emitters, derived tables and writers."""
