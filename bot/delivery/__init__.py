"""The one way messages reach many people: outbox rows, a paced worker, planning jobs."""
