/**
 * Project-written seed sentences (Apache-2.0, part of Switchboard) for the default language
 * identifier: zh, en, ja, ko, de, fr, es. Format: one `label|text` per line.
 */
export const LANGUAGE_SEED = `
zh|你好，我想查询一下我的订单
zh|这个产品什么时候能发货
zh|我的快递还没有收到
zh|请问可以退款吗
zh|谢谢你的帮助
zh|我忘记密码了，怎么办
zh|为什么扣了两次钱
zh|请帮我转人工客服
zh|今天天气很好
zh|这个多少钱
zh|我要投诉你们的服务
zh|能不能帮我改一下地址
zh|请问营业时间是几点
zh|东西收到了，质量很好
zh|发票怎么开
zh|我在等你们的回复
zh|账号登录不上去
zh|订单已经取消了吗
zh|麻烦尽快处理一下
zh|我想换一个颜色
en|hello, I would like to check my order
en|when will this product ship?
en|my package has not arrived yet
en|can I get a refund please
en|thank you for your help
en|I forgot my password, what should I do
en|why was I charged twice
en|please transfer me to a human agent
en|the weather is nice today
en|how much does this cost
en|I want to complain about your service
en|could you change my delivery address
en|what are your opening hours
en|the item arrived and the quality is great
en|how do I get an invoice
en|I am waiting for your reply
en|I cannot log into my account
en|has my order been cancelled
en|please handle this as soon as possible
en|I would like a different colour
ja|こんにちは、注文を確認したいです
ja|この商品はいつ発送されますか
ja|荷物がまだ届いていません
ja|返金をお願いできますか
ja|ご協力ありがとうございます
ja|パスワードを忘れました
ja|なぜ二回請求されたのですか
ja|担当者につないでください
ja|今日はいい天気ですね
ja|これはいくらですか
ja|サービスについて苦情があります
ja|配送先の住所を変更できますか
ja|営業時間は何時ですか
ja|商品が届きました、品質がいいです
ja|領収書はどうやってもらえますか
ja|お返事をお待ちしています
ja|アカウントにログインできません
ja|注文はキャンセルされましたか
ja|できるだけ早く対応してください
ja|別の色に交換したいです
ko|안녕하세요, 주문을 확인하고 싶어요
ko|이 상품은 언제 배송되나요
ko|택배가 아직 도착하지 않았어요
ko|환불 받을 수 있나요
ko|도와주셔서 감사합니다
ko|비밀번호를 잊어버렸어요
ko|왜 두 번 결제되었나요
ko|상담원 연결해 주세요
ko|오늘 날씨가 좋네요
ko|이거 얼마예요
ko|서비스에 대해 불만이 있어요
ko|배송 주소를 변경할 수 있나요
ko|영업 시간이 어떻게 되나요
ko|상품을 받았어요, 품질이 좋아요
ko|영수증은 어떻게 받나요
ko|답변 기다리고 있어요
ko|계정에 로그인할 수 없어요
ko|주문이 취소되었나요
ko|최대한 빨리 처리해 주세요
ko|다른 색으로 바꾸고 싶어요
de|Hallo, ich möchte meine Bestellung prüfen
de|Wann wird dieses Produkt versendet?
de|Mein Paket ist noch nicht angekommen
de|Kann ich bitte eine Rückerstattung bekommen
de|Vielen Dank für Ihre Hilfe
de|Ich habe mein Passwort vergessen, was soll ich tun
de|Warum wurde mir zweimal abgebucht
de|Bitte verbinden Sie mich mit einem Mitarbeiter
de|Das Wetter ist heute schön
de|Wie viel kostet das
de|Ich möchte mich über Ihren Service beschweren
de|Können Sie meine Lieferadresse ändern
de|Wie sind Ihre Öffnungszeiten
de|Die Ware ist angekommen und die Qualität ist gut
de|Wie bekomme ich eine Rechnung
de|Ich warte auf Ihre Antwort
de|Ich kann mich nicht in mein Konto einloggen
de|Wurde meine Bestellung storniert
de|Bitte kümmern Sie sich so schnell wie möglich darum
de|Ich hätte gerne eine andere Farbe
fr|Bonjour, je voudrais vérifier ma commande
fr|Quand ce produit sera-t-il expédié ?
fr|Mon colis n'est pas encore arrivé
fr|Puis-je obtenir un remboursement s'il vous plaît
fr|Merci beaucoup pour votre aide
fr|J'ai oublié mon mot de passe, que dois-je faire
fr|Pourquoi ai-je été débité deux fois
fr|Veuillez me transférer à un conseiller
fr|Il fait beau aujourd'hui
fr|Combien ça coûte
fr|Je veux me plaindre de votre service
fr|Pouvez-vous changer mon adresse de livraison
fr|Quels sont vos horaires d'ouverture
fr|L'article est arrivé et la qualité est excellente
fr|Comment obtenir une facture
fr|J'attends votre réponse
fr|Je n'arrive pas à me connecter à mon compte
fr|Ma commande a-t-elle été annulée
fr|Merci de traiter cela le plus vite possible
fr|Je voudrais une autre couleur
es|Hola, quisiera revisar mi pedido
es|¿Cuándo se enviará este producto?
es|Mi paquete todavía no ha llegado
es|¿Puedo obtener un reembolso, por favor?
es|Muchas gracias por su ayuda
es|Olvidé mi contraseña, ¿qué debo hacer?
es|¿Por qué me cobraron dos veces?
es|Por favor, páseme con un agente
es|Hoy hace buen tiempo
es|¿Cuánto cuesta esto?
es|Quiero quejarme de su servicio
es|¿Pueden cambiar mi dirección de entrega?
es|¿Cuál es su horario de atención?
es|El artículo llegó y la calidad es muy buena
es|¿Cómo consigo una factura?
es|Estoy esperando su respuesta
es|No puedo iniciar sesión en mi cuenta
es|¿Se ha cancelado mi pedido?
es|Por favor, atiéndanlo lo antes posible
es|Quisiera otro color
`;
