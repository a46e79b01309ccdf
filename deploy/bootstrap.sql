-- qcflow on PostgreSQL: a login role and its database. Set the password interactively
-- (\password qcflow); no password is written here.
CREATE ROLE qcflow LOGIN;
CREATE DATABASE qcflow OWNER qcflow ENCODING 'UTF8' TEMPLATE template0;
