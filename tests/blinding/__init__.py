"""The counterfactual blinding test's machinery: a trial world built through the real services
and endpoints (world), every URL pattern filled from that world (walk), and the recording of
everything a blinded user can observe (capture)."""
