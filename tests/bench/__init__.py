"""``make bench``: the pipeline's throughput and latency, beside the raw broker rate.

One run measures, on the same machine and the same embedded broker, so their ratio means
something:

1. the raw produce→consume rate of the Tansu broker with our own Kafka client settings
   (:mod:`tests.bench.broker`): the ceiling any single hop could reach;
2. end-to-end throughput, intake → ``TicketAssigned`` seen on ``ticket.assignments``,
   with the five services running as processes exactly as ``make run`` starts them
   (:mod:`tests.bench.load`);
3. latency intake → ``TicketAssigned`` at a fixed, open-loop offered rate;
4. the classifier library on its own, when ``socialdesk_classifier.nlp.bench`` exists.

How and why it measures what it does is in ``docs/decisions/0005-benchmark-method.md``.
The last line of output is one JSON object (the figures), for scripts and CI.
"""
