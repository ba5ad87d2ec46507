"""The Celery side: tasks, the batch sender and the gateways to the outside world."""
