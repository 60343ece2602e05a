"""`make capacity`: a model of the deployed bridge under a contact centre's day (docs/capacity.md)."""
