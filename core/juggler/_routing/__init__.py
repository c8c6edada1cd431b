"""The routing engine: one attempt loop for calls and streams, and the records it keeps.

``engine`` decides what to try next; ``overlap`` runs hedged and raced attempts without
knowing the engine; ``stream`` continues the winning stream; ``plan`` picks a call's targets;
``record`` holds the attempt log; ``answers`` turns a routed result into a public answer;
``probe`` sends health probes through the engine.
"""
