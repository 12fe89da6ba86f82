"""The shared runtime every socialdesk service is built on.

Settings, the Kafka consumer loop with its inbox and dead-letter topic, the outbox relay,
the database unit of work and migrations, health and metrics endpoints, JSON logging,
and the embedded stack launcher. It imports the contract (``socialdesk_schemas``) and no
service: services import it.
"""
