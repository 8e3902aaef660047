BEGIN TRANSACTION;
CREATE TABLE customer (
	id INTEGER NOT NULL, 
	name VARCHAR, 
	name_key VARCHAR, 
	email VARCHAR, 
	phone VARCHAR, 
	note VARCHAR, 
	created DATETIME NOT NULL, 
	forgotten_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO "customer" VALUES(1,'Anna Smith','anna smith',NULL,NULL,NULL,'2026-11-23 08:05:00.000000',NULL);
INSERT INTO "customer" VALUES(2,'Ben Okafor','ben okafor',NULL,NULL,NULL,'2026-11-23 08:40:00.000000',NULL);
INSERT INTO "customer" VALUES(3,'Carla Mendes','carla mendes',NULL,NULL,NULL,'2026-11-23 09:15:00.000000',NULL);
INSERT INTO "customer" VALUES(4,NULL,NULL,NULL,NULL,NULL,'2026-11-23 11:00:00.000000','2026-11-28 09:00:00.000000');
INSERT INTO "customer" VALUES(5,'Emma Novak','emma novak',NULL,NULL,NULL,'2026-11-23 13:00:00.000000',NULL);
INSERT INTO "customer" VALUES(6,NULL,NULL,NULL,NULL,NULL,'2026-11-23 17:20:00.000000','2026-11-28 09:05:00.000000');
INSERT INTO "customer" VALUES(7,'Femi Adeyemi','femi adeyemi',NULL,NULL,NULL,'2026-11-26 17:00:00.000000',NULL);
CREATE TABLE delivery (
	id INTEGER NOT NULL, 
	promise_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	what VARCHAR NOT NULL, 
	quantity INTEGER NOT NULL, 
	price_minor BIGINT, 
	currency VARCHAR(3), 
	note VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(promise_id) REFERENCES promise (id)
);
INSERT INTO "delivery" VALUES(1,1,'2026-11-24 14:10:00.000000','Hiking boots size 38',2,24000,'EUR',NULL);
INSERT INTO "delivery" VALUES(2,10,'2026-11-24 15:00:00.000000','Energy bars',12,2500,'EUR',NULL);
INSERT INTO "delivery" VALUES(3,2,'2026-11-25 10:20:00.000000','Tent repair (zip)',1,4500,'EUR',NULL);
INSERT INTO "delivery" VALUES(4,3,'2026-11-25 11:00:00.000000','Rain jacket size L',1,18000,'EUR','M sold out');
INSERT INTO "delivery" VALUES(5,6,'2026-11-25 12:00:00.000000','Climbing chalk',2,1000,'EUR',NULL);
INSERT INTO "delivery" VALUES(6,11,'2026-11-25 16:45:00.000000','Headlamp',1,1999,'USD',NULL);
INSERT INTO "delivery" VALUES(7,4,'2026-11-26 09:00:00.000000','Ski wax',3,3950,'EUR',NULL);
INSERT INTO "delivery" VALUES(8,6,'2026-11-26 10:00:00.000000','Climbing chalk',3,1500,'EUR',NULL);
INSERT INTO "delivery" VALUES(9,5,'2026-11-26 11:00:00.000000','Merino socks',2,3000,'EUR','two now (rest on order)');
INSERT INTO "delivery" VALUES(10,15,'2026-11-26 15:30:00.000000','Climbing harness',1,7000,'EUR',NULL);
INSERT INTO "delivery" VALUES(11,12,'2026-11-26 16:10:00.000000','Call back about the bindings',1,NULL,NULL,'Left a voicemail; she called back');
INSERT INTO "delivery" VALUES(12,19,'2026-11-21 10:15:00.000000','Trail running shoes size 44',1,13900,'EUR',NULL);
INSERT INTO "delivery" VALUES(13,17,'2026-11-27 08:15:00.000000','Follow up: Hiking boots size 38',1,NULL,NULL,'Boots pinch at the toes');
INSERT INTO "delivery" VALUES(14,7,'2026-11-27 15:00:00.000000','Bike service',2,8900,'EUR',NULL);
INSERT INTO "delivery" VALUES(15,16,'2026-11-27 09:00:00.000000','Tent pegs',1,400,'EUR',NULL);
INSERT INTO "delivery" VALUES(16,16,'2026-11-27 14:00:00.000000','Tent pegs',1,400,'EUR',NULL);
CREATE TABLE event (
	id INTEGER NOT NULL, 
	promise_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	event VARCHAR(32) NOT NULL, 
	detail VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(promise_id) REFERENCES promise (id)
);
INSERT INTO "event" VALUES(1,1,'2026-11-23 08:05:00.000000','promised','2 × Hiking boots size 38 for €240.00, due Tue 24 Nov (end of day) to Anna Smith by Jo');
INSERT INTO "event" VALUES(2,2,'2026-11-23 08:40:00.000000','promised','Tent repair (zip) for €45.00, due Tue 24 Nov 17:00 to Ben Okafor by Sam');
INSERT INTO "event" VALUES(3,3,'2026-11-23 09:15:00.000000','promised','Rain jacket size M for €180.00, due Wed 25 Nov (end of day) to Carla Mendes by Jo');
INSERT INTO "event" VALUES(4,4,'2026-11-23 10:00:00.000000','promised','3 × Ski wax for €36.00, due Thu 26 Nov (end of day)');
INSERT INTO "event" VALUES(5,5,'2026-11-23 10:30:00.000000','promised','4 × Merino socks for €60.00, due Fri 27 Nov (end of day) to Carla Mendes by Jo');
INSERT INTO "event" VALUES(6,6,'2026-11-23 11:00:00.000000','promised','5 × Climbing chalk for €25.00, due Thu 26 Nov (end of day) to (forgotten customer) by Sam');
INSERT INTO "event" VALUES(7,7,'2026-11-23 13:00:00.000000','promised','Bike service for €89.00, due Wed 25 Nov 12:00 to Emma Novak by Sam');
INSERT INTO "event" VALUES(8,8,'2026-11-23 14:00:00.000000','promised','Snow chains for €65.00, due Sat 28 Nov (end of day) to Ben Okafor by Jo');
INSERT INTO "event" VALUES(9,9,'2026-11-23 15:00:00.000000','promised','Kayak rental for €60.00, due Sat 28 Nov 09:00 to (forgotten customer) by Jo');
INSERT INTO "event" VALUES(10,10,'2026-11-23 15:30:00.000000','promised','10 × Energy bars for €25.00, due Tue 24 Nov (end of day) to Emma Novak');
INSERT INTO "event" VALUES(11,11,'2026-11-23 16:00:00.000000','promised','Headlamp for $19.99, due Wed 25 Nov (end of day) by Sam');
INSERT INTO "event" VALUES(12,12,'2026-11-23 16:30:00.000000','promised','Call back about the bindings, due Thu 26 Nov 16:00 to Emma Novak by Sam');
INSERT INTO "event" VALUES(13,13,'2026-11-23 17:00:00.000000','promised','Ski boots fitting, due Fri 27 Nov 10:00 to Ben Okafor by Jo');
INSERT INTO "event" VALUES(14,14,'2026-11-23 17:10:00.000000','promised','Ice axe for €95.50, due Thu 3 Dec (end of day) to Anna Smith by Jo');
INSERT INTO "event" VALUES(15,15,'2026-11-23 17:20:00.000000','promised','Climbing harness for €70.00, due Thu 26 Nov (end of day) to (forgotten customer) by (forgotten customer)');
INSERT INTO "event" VALUES(16,16,'2026-11-23 17:30:00.000000','promised','2 × Tent pegs for €8.00, due Fri 27 Nov (end of day) to Ben Okafor');
INSERT INTO "event" VALUES(17,1,'2026-11-24 14:10:00.000000','delivered','2 × Hiking boots size 38 for €240.00');
INSERT INTO "event" VALUES(18,17,'2026-11-24 14:10:00.000000','promised','Follow up: Hiking boots size 38, due Thu 26 Nov (end of day) to Anna Smith by Jo');
INSERT INTO "event" VALUES(19,1,'2026-11-24 14:10:00.000000','followup','follow-up #17 due Thu 26 Nov (end of day)');
INSERT INTO "event" VALUES(20,18,'2026-11-24 14:10:00.000000','promised','Follow up: Hiking boots size 38, due Thu 24 Dec (end of day) to Anna Smith by Jo');
INSERT INTO "event" VALUES(21,1,'2026-11-24 14:10:00.000000','followup','follow-up #18 due Thu 24 Dec (end of day)');
INSERT INTO "event" VALUES(22,1,'2026-11-24 14:10:00.000000','fulfilled','kept');
INSERT INTO "event" VALUES(23,10,'2026-11-24 15:00:00.000000','delivered','12 × Energy bars for €25.00');
INSERT INTO "event" VALUES(24,10,'2026-11-24 15:00:00.000000','fulfilled','excess: 12 delivered, 10 promised');
INSERT INTO "event" VALUES(25,7,'2026-11-25 08:30:00.000000','amended','Bike service for €89.00, due Wed 25 Nov 12:00 → 2 × Bike service for €89.00, due Fri 27 Nov 17:00; reason: Second bike came in; Emma agreed');
INSERT INTO "event" VALUES(26,8,'2026-11-25 09:00:00.000000','amended','Snow chains for €65.00, due Sat 28 Nov (end of day) → Snow chains (size 9) for €79.00, due Tue 5 Jan 2027 (end of day); reason: Supplier delay → January; size 9 instead');
INSERT INTO "event" VALUES(27,2,'2026-11-25 10:20:00.000000','delivered','1 × Tent repair (zip) for €45.00');
INSERT INTO "event" VALUES(28,2,'2026-11-25 10:20:00.000000','fulfilled','late by 18 hours 20 minutes');
INSERT INTO "event" VALUES(29,3,'2026-11-25 11:00:00.000000','delivered','1 × Rain jacket size L for €180.00 (M sold out)');
INSERT INTO "event" VALUES(30,3,'2026-11-25 11:00:00.000000','fulfilled','substituted "Rain jacket size L" for "Rain jacket size M"');
INSERT INTO "event" VALUES(31,6,'2026-11-25 12:00:00.000000','delivered','2 × Climbing chalk for €10.00');
INSERT INTO "event" VALUES(32,11,'2026-11-25 16:45:00.000000','delivered','1 × Headlamp for $19.99');
INSERT INTO "event" VALUES(33,11,'2026-11-25 16:45:00.000000','fulfilled','kept');
INSERT INTO "event" VALUES(34,4,'2026-11-26 09:00:00.000000','delivered','3 × Ski wax for €39.50');
INSERT INTO "event" VALUES(35,4,'2026-11-26 09:00:00.000000','fulfilled','price €39.50 vs €36.00 promised (+€3.50)');
INSERT INTO "event" VALUES(36,6,'2026-11-26 10:00:00.000000','delivered','3 × Climbing chalk for €15.00');
INSERT INTO "event" VALUES(37,6,'2026-11-26 10:00:00.000000','fulfilled','kept');
INSERT INTO "event" VALUES(38,5,'2026-11-26 11:00:00.000000','delivered','2 × Merino socks for €30.00 (two now (rest on order))');
INSERT INTO "event" VALUES(39,15,'2026-11-26 15:30:00.000000','delivered','1 × Climbing harness for €70.00');
INSERT INTO "event" VALUES(40,15,'2026-11-26 15:30:00.000000','fulfilled','kept');
INSERT INTO "event" VALUES(41,12,'2026-11-26 16:10:00.000000','done','late by 1 hour 10 minutes (Left a voicemail; she called back)');
INSERT INTO "event" VALUES(42,2,'2026-11-26 16:30:00.000000','remedied','Refunded €10; to prevent it: Check the repair queue every morning');
INSERT INTO "event" VALUES(43,4,'2026-11-26 16:35:00.000000','remedied','Refunded €3.50');
INSERT INTO "event" VALUES(44,2,'2026-11-26 16:40:00.000000','notice','On Mon 23 Nov we promised you Tent repair (zip) for €45.00 by Tue 24 Nov 17:00.');
INSERT INTO "event" VALUES(45,19,'2026-11-26 17:00:00.000000','imported','Trail running shoes size 44 for €139.00, due Fri 20 Nov (end of day) to Femi Adeyemi by Jo; delivered 1 × Trail running shoes size 44 for €139.00 on Sat 21 Nov 2026 11:15: late by 11 hours 15 minutes (from till-2026-11.csv, line 2)');
INSERT INTO "event" VALUES(46,20,'2026-11-26 17:00:00.000000','imported','2 × Gaiters for €50.00, due Sat 21 Nov (end of day) to anna smith by Sam (from till-2026-11.csv, line 3)');
INSERT INTO "event" VALUES(47,21,'2026-11-26 17:00:00.000000','imported','Call back about the insoles, due Mon 30 Nov 16:00 to Femi Adeyemi by Jo (from till-2026-11.csv, line 4)');
INSERT INTO "event" VALUES(48,17,'2026-11-27 08:15:00.000000','done','late by 9 hours 15 minutes; the customer is unhappy (Boots pinch at the toes)');
INSERT INTO "event" VALUES(49,1,'2026-11-27 08:15:00.000000','unhappy','follow-up #17: the customer is unhappy');
INSERT INTO "event" VALUES(50,1,'2026-11-27 09:30:00.000000','remedied','Stretched the boots for free; to prevent it: Offer a fitting with every boot order');
INSERT INTO "event" VALUES(51,7,'2026-11-27 15:00:00.000000','delivered','2 × Bike service for €89.00');
INSERT INTO "event" VALUES(52,7,'2026-11-27 15:00:00.000000','fulfilled','kept');
INSERT INTO "event" VALUES(53,22,'2026-11-27 17:00:00.000000','promised','Follow up: Merino socks, due Sun 29 Nov (end of day) to Carla Mendes by Jo');
INSERT INTO "event" VALUES(54,5,'2026-11-27 17:00:00.000000','followup','follow-up #22 due Sun 29 Nov (end of day)');
INSERT INTO "event" VALUES(55,23,'2026-11-27 17:00:00.000000','promised','Follow up: Merino socks, due Sun 27 Dec (end of day) to Carla Mendes by Jo');
INSERT INTO "event" VALUES(56,5,'2026-11-27 17:00:00.000000','followup','follow-up #23 due Sun 27 Dec (end of day)');
INSERT INTO "event" VALUES(57,5,'2026-11-27 17:00:00.000000','done','price €30.00 vs €60.00 promised (-€30.00); short: 2 of 4 delivered (Customer took the two)');
INSERT INTO "event" VALUES(58,13,'2026-11-27 17:05:00.000000','notice','On Mon 23 Nov we promised you Ski boots fitting by Fri 27 Nov 10:00.');
INSERT INTO "event" VALUES(59,16,'2026-11-27 18:00:00.000000','delivered','1 × Tent pegs for €4.00');
INSERT INTO "event" VALUES(60,16,'2026-11-27 18:01:00.000000','delivered','1 × Tent pegs for €4.00');
INSERT INTO "event" VALUES(61,16,'2026-11-27 18:01:00.000000','fulfilled','kept');
INSERT INTO "event" VALUES(62,13,'2026-11-28 06:00:00.000000','notified','mailed to owner@alpine.example, jo@alpine.example as overdue');
INSERT INTO "event" VALUES(63,9,'2026-11-28 07:00:00.000000','cancelled','(forgotten customer) cancelled the trip');
INSERT INTO "event" VALUES(64,6,'2026-11-28 09:00:00.000000','forgotten','the customer''s name and contact details were erased');
INSERT INTO "event" VALUES(65,9,'2026-11-28 09:00:00.000000','forgotten','the customer''s name and contact details were erased');
INSERT INTO "event" VALUES(66,15,'2026-11-28 09:05:00.000000','forgotten','the customer''s name and contact details were erased');
CREATE TABLE pk_meta (
	"key" VARCHAR(64) NOT NULL, 
	value VARCHAR NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "pk_meta" VALUES('schema_version','1');
CREATE TABLE promise (
	id INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	customer_id INTEGER, 
	what VARCHAR NOT NULL, 
	quantity INTEGER NOT NULL, 
	price_minor BIGINT, 
	currency VARCHAR(3), 
	due DATETIME NOT NULL, 
	date_only BOOLEAN NOT NULL, 
	original_due DATETIME, 
	original_date_only BOOLEAN, 
	renegotiated BOOLEAN NOT NULL, 
	staff VARCHAR, 
	note VARCHAR, 
	parent_id INTEGER, 
	created DATETIME NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	closed_at DATETIME, 
	fulfilled_at DATETIME, 
	delivered_quantity INTEGER NOT NULL, 
	charged_minor BIGINT, 
	charged_currency VARCHAR(3), 
	late_seconds BIGINT, 
	dev_late BOOLEAN NOT NULL, 
	dev_substituted BOOLEAN NOT NULL, 
	dev_price BOOLEAN NOT NULL, 
	dev_short BOOLEAN NOT NULL, 
	dev_excess BOOLEAN NOT NULL, 
	unhappy BOOLEAN NOT NULL, 
	remedied BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(customer_id) REFERENCES customer (id), 
	FOREIGN KEY(parent_id) REFERENCES promise (id)
);
INSERT INTO "promise" VALUES(1,'delivery',1,'Hiking boots size 38',2,24000,'EUR','2026-11-24 22:59:59.999999',1,NULL,NULL,0,'Jo',NULL,NULL,'2026-11-23 08:05:00.000000','fulfilled','2026-11-24 14:10:00.000000','2026-11-24 14:10:00.000000',2,24000,'EUR',NULL,0,0,0,0,0,1,1);
INSERT INTO "promise" VALUES(2,'delivery',2,'Tent repair (zip)',1,4500,'EUR','2026-11-24 16:00:00.000000',0,NULL,NULL,0,'Sam',NULL,NULL,'2026-11-23 08:40:00.000000','fulfilled','2026-11-25 10:20:00.000000','2026-11-25 10:20:00.000000',1,4500,'EUR',66000,1,0,0,0,0,0,1);
INSERT INTO "promise" VALUES(3,'delivery',3,'Rain jacket size M',1,18000,'EUR','2026-11-25 22:59:59.999999',1,NULL,NULL,0,'Jo',NULL,NULL,'2026-11-23 09:15:00.000000','fulfilled','2026-11-25 11:00:00.000000','2026-11-25 11:00:00.000000',1,18000,'EUR',NULL,0,1,0,0,0,0,0);
INSERT INTO "promise" VALUES(4,'delivery',NULL,'Ski wax',3,3600,'EUR','2026-11-26 22:59:59.999999',1,NULL,NULL,0,NULL,NULL,NULL,'2026-11-23 10:00:00.000000','fulfilled','2026-11-26 09:00:00.000000','2026-11-26 09:00:00.000000',3,3950,'EUR',NULL,0,0,1,0,0,0,1);
INSERT INTO "promise" VALUES(5,'delivery',3,'Merino socks',4,6000,'EUR','2026-11-27 22:59:59.999999',1,NULL,NULL,0,'Jo',NULL,NULL,'2026-11-23 10:30:00.000000','fulfilled','2026-11-27 17:00:00.000000','2026-11-26 11:00:00.000000',2,3000,'EUR',NULL,0,0,1,1,0,0,0);
INSERT INTO "promise" VALUES(6,'delivery',4,'Climbing chalk',5,2500,'EUR','2026-11-26 22:59:59.999999',1,NULL,NULL,0,'Sam',NULL,NULL,'2026-11-23 11:00:00.000000','fulfilled','2026-11-26 10:00:00.000000','2026-11-26 10:00:00.000000',5,2500,'EUR',NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(7,'delivery',5,'Bike service',2,8900,'EUR','2026-11-27 16:00:00.000000',0,'2026-11-25 11:00:00.000000',0,1,'Sam',NULL,NULL,'2026-11-23 13:00:00.000000','fulfilled','2026-11-27 15:00:00.000000','2026-11-27 15:00:00.000000',2,8900,'EUR',NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(8,'delivery',2,'Snow chains (size 9)',1,7900,'EUR','2027-01-05 22:59:59.999999',1,'2026-11-28 22:59:59.999999',1,1,'Jo',NULL,NULL,'2026-11-23 14:00:00.000000','active',NULL,NULL,0,NULL,NULL,NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(9,'delivery',4,'Kayak rental',1,6000,'EUR','2026-11-28 08:00:00.000000',0,NULL,NULL,0,'Jo','(forgotten customer) prefers the red one',NULL,'2026-11-23 15:00:00.000000','cancelled','2026-11-28 07:00:00.000000',NULL,0,NULL,NULL,NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(10,'delivery',5,'Energy bars',10,2500,'EUR','2026-11-24 22:59:59.999999',1,NULL,NULL,0,NULL,NULL,NULL,'2026-11-23 15:30:00.000000','fulfilled','2026-11-24 15:00:00.000000','2026-11-24 15:00:00.000000',12,2500,'EUR',NULL,0,0,0,0,1,0,0);
INSERT INTO "promise" VALUES(11,'delivery',NULL,'Headlamp',1,1999,'USD','2026-11-25 22:59:59.999999',1,NULL,NULL,0,'Sam',NULL,NULL,'2026-11-23 16:00:00.000000','fulfilled','2026-11-25 16:45:00.000000','2026-11-25 16:45:00.000000',1,1999,'USD',NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(12,'callback',5,'Call back about the bindings',1,NULL,NULL,'2026-11-26 15:00:00.000000',0,NULL,NULL,0,'Sam',NULL,NULL,'2026-11-23 16:30:00.000000','fulfilled','2026-11-26 16:10:00.000000','2026-11-26 16:10:00.000000',1,NULL,NULL,4200,1,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(13,'delivery',2,'Ski boots fitting',1,NULL,NULL,'2026-11-27 09:00:00.000000',0,NULL,NULL,0,'Jo',NULL,NULL,'2026-11-23 17:00:00.000000','active',NULL,NULL,0,NULL,NULL,NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(14,'delivery',1,'Ice axe',1,9550,'EUR','2026-12-03 22:59:59.999999',1,NULL,NULL,0,'Jo',NULL,NULL,'2026-11-23 17:10:00.000000','active',NULL,NULL,0,NULL,NULL,NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(15,'delivery',6,'Climbing harness',1,7000,'EUR','2026-11-26 22:59:59.999999',1,NULL,NULL,0,'Sam',NULL,NULL,'2026-11-23 17:20:00.000000','fulfilled','2026-11-26 15:30:00.000000','2026-11-26 15:30:00.000000',1,7000,'EUR',NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(16,'delivery',2,'Tent pegs',2,800,'EUR','2026-11-27 22:59:59.999999',1,NULL,NULL,0,NULL,NULL,NULL,'2026-11-23 17:30:00.000000','fulfilled','2026-11-27 14:00:00.000000','2026-11-27 14:00:00.000000',2,800,'EUR',NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(17,'followup',1,'Follow up: Hiking boots size 38',1,NULL,NULL,'2026-11-26 22:59:59.999999',1,NULL,NULL,0,'Jo',NULL,1,'2026-11-24 14:10:00.000000','fulfilled','2026-11-27 08:15:00.000000','2026-11-27 08:15:00.000000',1,NULL,NULL,33300,1,0,0,0,0,1,0);
INSERT INTO "promise" VALUES(18,'followup',1,'Follow up: Hiking boots size 38',1,NULL,NULL,'2026-12-24 22:59:59.999999',1,NULL,NULL,0,'Jo',NULL,1,'2026-11-24 14:10:00.000000','active',NULL,NULL,0,NULL,NULL,NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(19,'delivery',7,'Trail running shoes size 44',1,13900,'EUR','2026-11-20 22:59:59.999999',1,NULL,NULL,0,'Jo',NULL,NULL,'2026-11-26 17:00:00.000000','fulfilled','2026-11-21 10:15:00.000000','2026-11-21 10:15:00.000000',1,13900,'EUR',40500,1,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(20,'delivery',1,'Gaiters',2,5000,'EUR','2026-11-21 22:59:59.999999',1,NULL,NULL,0,'Sam',NULL,NULL,'2026-11-26 17:00:00.000000','active',NULL,NULL,0,NULL,NULL,NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(21,'callback',7,'Call back about the insoles',1,NULL,NULL,'2026-11-30 15:00:00.000000',0,NULL,NULL,0,'Jo',NULL,NULL,'2026-11-26 17:00:00.000000','active',NULL,NULL,0,NULL,NULL,NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(22,'followup',3,'Follow up: Merino socks',1,NULL,NULL,'2026-11-29 22:59:59.999999',1,NULL,NULL,0,'Jo',NULL,5,'2026-11-27 17:00:00.000000','active',NULL,NULL,0,NULL,NULL,NULL,0,0,0,0,0,0,0);
INSERT INTO "promise" VALUES(23,'followup',3,'Follow up: Merino socks',1,NULL,NULL,'2026-12-27 22:59:59.999999',1,NULL,NULL,0,'Jo',NULL,5,'2026-11-27 17:00:00.000000','active',NULL,NULL,0,NULL,NULL,NULL,0,0,0,0,0,0,0);
CREATE TABLE promise_tag (
	promise_id INTEGER NOT NULL, 
	tag VARCHAR NOT NULL, 
	PRIMARY KEY (promise_id, tag), 
	FOREIGN KEY(promise_id) REFERENCES promise (id)
);
INSERT INTO "promise_tag" VALUES(1,'boots');
INSERT INTO "promise_tag" VALUES(19,'shoes');
CREATE TABLE remedy (
	id INTEGER NOT NULL, 
	promise_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	action VARCHAR NOT NULL, 
	prevent VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(promise_id) REFERENCES promise (id)
);
INSERT INTO "remedy" VALUES(1,2,'2026-11-26 16:30:00.000000','Refunded €10','Check the repair queue every morning');
INSERT INTO "remedy" VALUES(2,4,'2026-11-26 16:35:00.000000','Refunded €3.50',NULL);
INSERT INTO "remedy" VALUES(3,1,'2026-11-27 09:30:00.000000','Stretched the boots for free','Offer a fitting with every boot order');
CREATE TABLE sent_item (
	report_id INTEGER NOT NULL, 
	promise_id INTEGER NOT NULL, 
	section VARCHAR(8) NOT NULL, 
	PRIMARY KEY (report_id, promise_id), 
	FOREIGN KEY(report_id) REFERENCES sent_report (id), 
	FOREIGN KEY(promise_id) REFERENCES promise (id)
);
INSERT INTO "sent_item" VALUES(1,13,'overdue');
CREATE TABLE sent_report (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	recipients VARCHAR NOT NULL, 
	subject VARCHAR NOT NULL, 
	overdue INTEGER NOT NULL, 
	due INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "sent_report" VALUES(1,'2026-11-28 06:00:00.000000','owner@alpine.example, jo@alpine.example','pk: 1 overdue, 0 due today',1,0);
CREATE INDEX ix_delivery_promise_id ON delivery (promise_id);
CREATE INDEX ix_event_promise_id ON event (promise_id);
CREATE INDEX ix_promise_customer_id ON promise (customer_id);
CREATE INDEX ix_promise_fulfilled ON promise (state, fulfilled_at);
CREATE INDEX ix_promise_needs_remedy ON promise (due) WHERE remedied = 0 AND (dev_late = 1 OR dev_substituted = 1 OR dev_price = 1 OR dev_short = 1 OR dev_excess = 1 OR unhappy = 1);
CREATE INDEX ix_promise_parent_id ON promise (parent_id);
CREATE INDEX ix_promise_staff ON promise (staff);
CREATE INDEX ix_promise_state_due ON promise (state, due);
CREATE INDEX ix_promise_tag_tag ON promise_tag (tag);
CREATE INDEX ix_remedy_promise_id ON remedy (promise_id);
CREATE INDEX ix_sent_item_promise_id ON sent_item (promise_id);
CREATE INDEX ix_sent_report_at ON sent_report (at);
CREATE UNIQUE INDEX ix_customer_name_key ON customer (name_key);
COMMIT;
