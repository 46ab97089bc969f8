"""Word lists for the synthetic sample data (names, places, companies, comments).

Everything here is invented or generic. Chinese entries carry their pinyin so e-mail
addresses can be built from them. Kept apart from :mod:`analysis.data.sample` so the
generator reads as logic, not as lists.
"""

from __future__ import annotations

# fmt: off
EN_FIRST = ['James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'William',
    'Elizabeth', 'David', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah',
    'Charles', 'Karen', 'Daniel', 'Emily', 'Matthew', 'Olivia', 'Anthony', 'Sophia', 'Mark',
    'Grace', 'Andrew', 'Chloe', 'Steven', 'Hannah', 'Paul', 'Laura', 'Kevin', 'Rachel', 'Brian',
    'Amy', 'George', 'Emma']

EN_LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Wilson',
    'Anderson', 'Taylor', 'Thomas', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White',
    'Harris', 'Clark', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott',
    'Green', 'Baker', 'Adams', 'Nelson', 'Hill', 'Campbell', 'Mitchell', 'Roberts', 'Carter',
    'Phillips', 'Evans', 'Turner']

# (hanzi, pinyin)
ZH_SURNAME = [('王', 'wang'), ('李', 'li'), ('张', 'zhang'), ('刘', 'liu'), ('陈', 'chen'), ('杨', 'yang'),
    ('黄', 'huang'), ('赵', 'zhao'), ('吴', 'wu'), ('周', 'zhou'), ('徐', 'xu'), ('孙', 'sun'),
    ('马', 'ma'), ('朱', 'zhu'), ('胡', 'hu'), ('郭', 'guo'), ('何', 'he'), ('高', 'gao'), ('林', 'lin'),
    ('罗', 'luo'), ('郑', 'zheng'), ('梁', 'liang'), ('谢', 'xie'), ('宋', 'song'), ('唐', 'tang'),
    ('韩', 'han'), ('冯', 'feng'), ('邓', 'deng'), ('曹', 'cao'), ('彭', 'peng'), ('曾', 'zeng'),
    ('肖', 'xiao'), ('田', 'tian'), ('董', 'dong'), ('袁', 'yuan'), ('潘', 'pan'), ('于', 'yu'),
    ('蒋', 'jiang'), ('蔡', 'cai'), ('余', 'yu')]

ZH_GIVEN = [('伟', 'wei'), ('芳', 'fang'), ('娜', 'na'), ('敏', 'min'), ('静', 'jing'), ('丽', 'li'),
    ('强', 'qiang'), ('磊', 'lei'), ('军', 'jun'), ('洋', 'yang'), ('勇', 'yong'), ('艳', 'yan'),
    ('杰', 'jie'), ('娟', 'juan'), ('涛', 'tao'), ('明', 'ming'), ('超', 'chao'), ('秀英', 'xiuying'),
    ('霞', 'xia'), ('平', 'ping'), ('刚', 'gang'), ('桂英', 'guiying'), ('建华', 'jianhua'),
    ('晓东', 'xiaodong'), ('志强', 'zhiqiang'), ('海燕', 'haiyan'), ('文静', 'wenjing'), ('子轩', 'zixuan'),
    ('梓涵', 'zihan'), ('浩然', 'haoran'), ('欣怡', 'xinyi'), ('宇航', 'yuhang'), ('思远', 'siyuan'),
    ('雨桐', 'yutong'), ('俊杰', 'junjie'), ('佳怡', 'jiayi'), ('一诺', 'yinuo'), ('明辉', 'minghui'),
    ('丽娟', 'lijuan'), ('国强', 'guoqiang')]

# city (English), city (Chinese; empty: the address is always English), region
CITIES = [('Beijing', '北京市', 'north'), ('Tianjin', '天津市', 'north'), ('Shenyang', '沈阳市', 'north'),
    ('Shanghai', '上海市', 'east'), ('Hangzhou', '杭州市', 'east'), ('Nanjing', '南京市', 'east'),
    ('Suzhou', '苏州市', 'east'), ('Guangzhou', '广州市', 'south'), ('Shenzhen', '深圳市', 'south'),
    ('Xiamen', '厦门市', 'south'), ('Chengdu', '成都市', 'west'), ('Chongqing', '重庆市', 'west'),
    ("Xi'an", '西安市', 'west'), ('Wuhan', '武汉市', 'central'), ('Changsha', '长沙市', 'central'),
    ('Zhengzhou', '郑州市', 'central'), ('Singapore', '', 'international'),
    ('Hong Kong', '', 'international'), ('Sydney', '', 'international'),
    ('Toronto', '', 'international'), ('London', '', 'international')]

# relative population weights of CITIES, same order
CITY_WEIGHTS = [9, 4, 3, 10, 5, 4, 4, 7, 8, 3, 6, 5, 4, 5, 3, 3, 3, 3, 2, 2, 2]

EN_STREETS = ['Maple Street', 'Oak Avenue', 'Cedar Road', 'Harbour View', 'King Street', "Queen's Road",
    'Park Lane', 'Riverside Drive', 'Hill Street', 'Church Road', 'Victoria Street',
    'Orchard Road', 'Bay Street', 'Station Road', 'Garden Avenue', 'Elm Street', 'Market Street',
    'Bridge Road', 'Lake Road', 'High Street']

ZH_ROADS = ['人民路', '解放路', '中山路', '建设路', '和平路', '长江路', '黄河路', '新华路', '文化路', '胜利路', '光明路', '青年路', '东风路',
    '南京路', '北京路', '世纪大道', '滨江大道', '科技路', '学院路', '花园路']

# company name parts
EN_BRANDS = ['Northwind', 'Bluewater', 'Summit', 'Evergreen', 'Pioneer', 'Silverline', 'Redwood', 'Horizon',
    'Granite', 'Crescent', 'Atlas', 'Meridian', 'Harbor', 'Keystone', 'Lakeside', 'Oakridge',
    'Sterling', 'Vertex', 'Zenith', 'Cobalt']

EN_INDUSTRIES = ['Trading', 'Logistics', 'Technologies', 'Consulting', 'Manufacturing', 'Healthcare', 'Foods',
    'Energy', 'Media', 'Engineering']

EN_COMPANY_SUFFIX = ['Ltd', 'Inc', 'Co.', 'Group', 'LLC']

# Chinese company brands: (hanzi, pinyin)
ZH_BRANDS = [('华信', 'huaxin'), ('恒通', 'hengtong'), ('金达', 'jinda'), ('鑫源', 'xinyuan'), ('宏远', 'hongyuan'),
    ('德胜', 'desheng'), ('永康', 'yongkang'), ('瑞丰', 'ruifeng'), ('天成', 'tiancheng'), ('博达', 'boda'),
    ('中联', 'zhonglian'), ('新锐', 'xinrui')]

ZH_INDUSTRIES = ['科技', '贸易', '物流', '电子', '实业', '医药', '建设', '食品']

EN_AGENCIES = ['Department of Transport', 'Education Bureau', 'Health Authority', 'Public Works Office',
    'Housing Department']

ZH_AGENCIES = ['交通局', '教育局', '卫生健康委员会', '住房和城乡建设局', '市场监督管理局']

EN_INSTITUTIONS = ['University', 'General Hospital', 'Public Library', 'Polytechnic', 'Museum']

ZH_INSTITUTIONS = ['大学', '第一人民医院', '图书馆', '职业技术学院', '博物馆']

MOBILE_PREFIXES = ['138', '139', '137', '136', '135', '150', '151', '152', '158', '159', '186', '187', '188',
    '189', '177', '133']

# Survey comment banks by attribute, in the order of the rating columns:
# product_quality, delivery, service, price, website (three variants each).
COMMENTS_NEGATIVE_EN = [['poor quality, broke after a week', 'product quality is not what was advertised',
  'the item felt cheap'],
    ['late delivery', 'delivery took two weeks', 'package arrived damaged'],
    ['rude staff', 'nobody answered my complaint', 'customer service was unhelpful'],
    ['too expensive', 'prices went up again', 'cheaper elsewhere'],
    ['website keeps crashing', 'the app is hard to use', 'checkout failed twice']]

COMMENTS_NEGATIVE_ZH = [['质量很差', '用了一周就坏了', '和描述的不一样'], ['配送太慢', '快递延误了好几天', '包裹破损'], ['客服态度差', '投诉没人处理', '服务太差了'],
    ['价格太贵', '又涨价了', '别家更便宜'], ['网站老是崩溃', 'APP很难用', '付款失败两次']]

COMMENTS_POSITIVE_EN = [['great quality', 'excellent product, works perfectly', 'really well made'],
    ['fast delivery', 'arrived the next day', 'delivery was quick and careful'],
    ['friendly staff', 'great service', 'support solved my problem quickly'],
    ['good value for money', 'great prices', 'worth every penny'],
    ['easy to order online', 'the app is very convenient', 'smooth checkout']]

COMMENTS_POSITIVE_ZH = [['质量很好', '产品非常好用', '做工精细'], ['物流很快', '第二天就到了', '配送很及时'], ['服务很好', '客服很耐心', '店员很热情'],
    ['性价比高', '价格实惠', '物有所值'], ['网站很好用', 'APP很方便', '下单很顺畅']]

COMMENTS_NEUTRAL_EN = ['it was ok', 'average experience', 'nothing special', 'delivery could be faster',
    'fine overall']

COMMENTS_NEUTRAL_ZH = ['还可以', '一般般', '总体还行', '中规中矩', '希望再快一点']
# fmt: on
